/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* crdma-hook plan [--annotation K=V]... [--config FILE|-]
 * crdma-hook policy */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "cli.h"
#include "document.h"

/* Annotations from the config (or state) document, then --annotation ones,
 * which replace a key the document has. */
static int merge_annotations(struct cli *cli, yajl_val doc, struct oci_annotations *out,
                             struct crdma_error **err)
{
        struct oci_annotations from_doc = { 0 };
        if (doc) {
                const char *path[] = { "annotations", NULL };
                int r = oci_annotations_from_tree(yajl_tree_get(doc, path, yajl_t_any), &from_doc, err);
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; i < from_doc.n; i++) {
                bool overridden = false;
                for (size_t j = 0; j < cli->annotations.n; j++)
                        overridden |= strcmp(from_doc.kv[i].key, cli->annotations.kv[j].key) == 0;
                if (!overridden && oci_annotations_add(out, from_doc.kv[i].key, from_doc.kv[i].value) < 0)
                        goto oom;
        }
        for (size_t j = 0; j < cli->annotations.n; j++)
                if (oci_annotations_add(out, cli->annotations.kv[j].key, cli->annotations.kv[j].value) < 0)
                        goto oom;
        oci_annotations_clear(&from_doc);
        return 0;
oom:
        oci_annotations_clear(&from_doc);
        oci_annotations_clear(out);
        fprintf(stderr, "crdma-hook: error: out of memory\n");
        return -1;
}

int cli_plan(struct cli *cli)
{
        if (cli->n_args > 0)
                return cli_usage_error("plan: unexpected argument \"%s\"", cli->args[0]);

        struct crdma_error *err = NULL;
        _cleanup_document_ yajl_val doc = NULL;
        if (cli->config && oci_document_load(cli->config, &doc, &err) < 0)
                return cli_fail(err);

        struct oci_annotations ann = { 0 };
        int r = merge_annotations(cli, doc, &ann, &err);
        if (r < 0)
                return err ? cli_fail(err) : CLI_EXIT_SYSTEM;

        struct crdma_request *req = NULL;
        struct crdma_policy *policy = NULL;
        struct crdma_device_list *devices = NULL;
        struct crdma_plan *plan = NULL;
        char *json = NULL;
        int status = CLI_EXIT_OK;

        /* The policy is read first so a broken policy file is reported even
         * for a container that asks for nothing. */
        if (crdma_policy_load(cli->ctx, &policy, &err) < 0 ||
            crdma_request_from_annotations(ann.kv, ann.n, &req, &err) < 0) {
                status = cli_fail(err);
                goto out;
        }
        if (!req) {
                fprintf(stderr, "crdma-hook: no io.crdma.* annotation: nothing to do\n");
                goto out;
        }
        if (crdma_devices_scan_for(cli->ctx, req, &devices, &err) < 0 ||
            crdma_plan_new(cli->ctx, req, devices, policy, &plan, &err) < 0 ||
            crdma_plan_to_json(plan, true, &json, &err) < 0) {
                status = cli_fail(err);
                goto out;
        }
        cli_print_json(json);
out:
        free(json);
        crdma_plan_free(plan);
        crdma_device_list_free(devices);
        crdma_policy_free(policy);
        crdma_request_free(req);
        oci_annotations_clear(&ann);
        return status;
}

int cli_policy(struct cli *cli)
{
        if (cli->n_args > 0)
                return cli_usage_error("policy: unexpected argument \"%s\"", cli->args[0]);
        struct crdma_error *err = NULL;
        struct crdma_policy *policy = NULL;
        char *json = NULL;
        if (crdma_policy_load(cli->ctx, &policy, &err) < 0 ||
            crdma_policy_to_json(policy, true, &json, &err) < 0) {
                crdma_policy_free(policy);
                return cli_fail(err);
        }
        cli_print_json(json);
        free(json);
        crdma_policy_free(policy);
        return CLI_EXIT_OK;
}
