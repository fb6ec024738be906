/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The administrator's policy file (crdma-policy(5)).  What parses must
 * print, and what it prints must parse back to the same policy. */
#include <stdlib.h>
#include <string.h>

#include "crdma.h"
#include "fuzz-common.h"

static char *print(const struct crdma_policy *p, bool pretty)
{
        char *json = NULL;
        struct crdma_error *err = NULL;
        int r = crdma_policy_to_json(p, pretty, &json, &err);
        FUZZ_ASSERT(r >= 0, "a parsed policy does not print: %s", crdma_error_message(err));
        return json;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct crdma_policy *p = NULL;
        struct crdma_error *err = NULL;
        int r = crdma_policy_parse((const char *) data, size, "policy.json", &p, &err);
        if (r < 0) {
                fuzz_check_error(r, &err);
                return 0;
        }
        char *once = print(p, false), *pretty = print(p, true);
        struct crdma_policy *again = NULL;
        r = crdma_policy_parse(once, strlen(once), "printed", &again, &err);
        FUZZ_ASSERT(r >= 0, "the printed policy %s does not parse: %s", once,
                    crdma_error_message(err));
        char *twice = print(again, false);
        FUZZ_ASSERT(strcmp(once, twice) == 0, "printed %s, reprinted %s", once, twice);
        crdma_policy_free(again);
        again = NULL;
        r = crdma_policy_parse(pretty, strlen(pretty), "printed", &again, &err);
        FUZZ_ASSERT(r >= 0, "the pretty policy does not parse: %s", crdma_error_message(err));
        crdma_policy_free(again);
        free(twice);
        free(pretty);
        free(once);
        crdma_policy_free(p);
        return 0;
}
