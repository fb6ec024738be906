/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What an attacker who reaches crdma-hook finds: the binaries built as
 * hardened (PIE, full RELRO, non-executable stack, stack protector,
 * _FORTIFY_SOURCE) and importing nothing that execs or loads code, and a
 * running hook holding only its command's
 * capabilities with no_new_privs set, read from /proc/<pid>/status while it
 * waits for the OCI state on stdin.
 *
 * usage: test-hostile-hardening HOOK LIBCRDMA FORTIFY(0|1) */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>
#include <linux/capability.h>

static const char *hook_path, *lib_path;
static bool fortify_expected;

struct elf_facts {
        bool pie, relro, bind_now, nx_stack, stack_chk, fortify;
        char fortified[64]; /* one __*_chk import, for the message */
        char runs_code[64]; /* an import that runs other code: exec*, system, dlopen... */
};

/* The hook execs nothing and loads nothing (no_new_privs is a second line). */
static const char *const code_runners[] = {
        "execve", "execv", "execvp", "execvpe", "execl", "execlp", "execle", "fexecve",
        "execveat", "system", "popen", "posix_spawn", "posix_spawnp", "dlopen", "dlmopen",
};

static void elf_read(const char *path, struct elf_facts *f)
{
        memset(f, 0, sizeof(*f));
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        struct stat st;
        assert_int_equal(fstat(fd, &st), 0);
        const unsigned char *m = mmap(NULL, (size_t) st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        assert_true(m != MAP_FAILED);
        close(fd);
        size_t size = (size_t) st.st_size;
        const Elf64_Ehdr *eh = (const void *) m;
        assert_true(size >= sizeof(*eh) && memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0);
        assert_int_equal(eh->e_ident[EI_CLASS], ELFCLASS64);
        assert_true(eh->e_phoff + (size_t) eh->e_phnum * sizeof(Elf64_Phdr) <= size);
        assert_true(eh->e_shoff + (size_t) eh->e_shnum * sizeof(Elf64_Shdr) <= size);

        bool interp = false;
        const Elf64_Phdr *ph = (const void *) (m + eh->e_phoff);
        for (unsigned i = 0; i < eh->e_phnum; i++) {
                if (ph[i].p_type == PT_INTERP)
                        interp = true;
                if (ph[i].p_type == PT_GNU_RELRO)
                        f->relro = true;
                if (ph[i].p_type == PT_GNU_STACK)
                        f->nx_stack = !(ph[i].p_flags & PF_X);
        }
        /* A position-independent executable is ET_DYN with an interpreter
         * (a shared library is ET_DYN too: PIC by construction). */
        f->pie = eh->e_type == ET_DYN && (interp || strstr(path, ".so"));

        const Elf64_Shdr *sh = (const void *) (m + eh->e_shoff);
        for (unsigned i = 0; i < eh->e_shnum; i++) {
                if (sh[i].sh_type == SHT_DYNAMIC) {
                        const Elf64_Dyn *d = (const void *) (m + sh[i].sh_offset);
                        for (size_t j = 0; j < sh[i].sh_size / sizeof(*d) && d[j].d_tag != DT_NULL; j++) {
                                if ((d[j].d_tag == DT_FLAGS && (d[j].d_un.d_val & DF_BIND_NOW)) ||
                                    (d[j].d_tag == DT_FLAGS_1 && (d[j].d_un.d_val & DF_1_NOW)) ||
                                    d[j].d_tag == DT_BIND_NOW)
                                        f->bind_now = true;
                        }
                }
                if (sh[i].sh_type != SHT_DYNSYM || sh[i].sh_link >= eh->e_shnum)
                        continue;
                const Elf64_Sym *sym = (const void *) (m + sh[i].sh_offset);
                const char *names = (const char *) (m + sh[sh[i].sh_link].sh_offset);
                for (size_t j = 0; j < sh[i].sh_size / sizeof(*sym); j++) {
                        if (sym[j].st_shndx != SHN_UNDEF || sym[j].st_name == 0)
                                continue; /* only imports */
                        const char *n = names + sym[j].st_name;
                        size_t len = strlen(n);
                        for (size_t k = 0; k < sizeof(code_runners) / sizeof(code_runners[0]); k++)
                                if (strcmp(n, code_runners[k]) == 0)
                                        snprintf(f->runs_code, sizeof(f->runs_code), "%s", n);
                        if (strcmp(n, "__stack_chk_fail") == 0)
                                f->stack_chk = true;
                        else if (strncmp(n, "__", 2) == 0 && len > 4 && strcmp(n + len - 4, "_chk") == 0) {
                                f->fortify = true;
                                snprintf(f->fortified, sizeof(f->fortified), "%s", n);
                        }
                }
        }
        munmap((void *) m, size);
}

static void check_binary(const char *path)
{
        struct elf_facts f;
        elf_read(path, &f);
        print_message("   %s: pie=%d relro=%d bind_now=%d nx_stack=%d stack_protector=%d fortify=%d (%s)\n",
                      path, f.pie, f.relro, f.bind_now, f.nx_stack, f.stack_chk, f.fortify,
                      f.fortified[0] ? f.fortified : "no __*_chk import");
        assert_true(f.pie);
        assert_true(f.relro);
        assert_true(f.bind_now); /* RELRO + BIND_NOW = full RELRO: the GOT is read-only */
        assert_true(f.nx_stack);
        assert_true(f.stack_chk);
        if (fortify_expected)
                assert_true(f.fortify);
        if (f.runs_code[0])
                fail_msg("%s imports %s: crdma-hook must exec and load nothing", path, f.runs_code);
}

static void test_hook_binary(void **state)
{
        (void) state;
        check_binary(hook_path);
}

static void test_library_binary(void **state)
{
        (void) state;
        check_binary(lib_path);
}

/* ------------------------------------------------------------ running hook */

static uint64_t status_hex(const char *status, const char *key)
{
        const char *p = strstr(status, key);
        assert_non_null(p);
        return strtoull(p + strlen(key), NULL, 16);
}

static long status_num(const char *status, const char *key)
{
        const char *p = strstr(status, key);
        assert_non_null(p);
        return strtol(p + strlen(key), NULL, 10);
}

static void read_proc(pid_t pid, const char *file, char *buf, size_t len)
{
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/%s", (int) pid, file);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        assert_true(fd >= 0);
        ssize_t n = read(fd, buf, len - 1);
        close(fd);
        assert_true(n > 0);
        buf[n] = '\0';
}

/* Start crdma-hook with `args`, stdin a pipe nobody writes; wait until it
 * blocks reading it (its privileges are dropped by then) and read its
 * status. */
static void running_hook_status(char *const args[], char *status, size_t len)
{
        int in[2];
        assert_int_equal(pipe2(in, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                dup2(in[0], STDIN_FILENO);
                int null = open("/dev/null", O_WRONLY);
                dup2(null, STDOUT_FILENO);
                dup2(null, STDERR_FILENO);
                char *const env[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL };
                execve(hook_path, args, env);
                _exit(127);
        }
        close(in[0]);
        /* read(0, ...) is syscall 0 with first argument 0 on x86_64. */
        char sc[256] = "";
        for (int i = 0; i < 500; i++) {
                read_proc(pid, "syscall", sc, sizeof(sc));
                if (strncmp(sc, "0 0x0 ", 6) == 0)
                        break;
                nanosleep(&(struct timespec){ 0, 10 * 1000 * 1000 }, NULL);
        }
        if (strncmp(sc, "0 0x0 ", 6) == 0)
                read_proc(pid, "status", status, len);
        close(in[1]); /* EOF: the hook fails on an empty document and exits */
        int ws;
        assert_int_equal(waitpid(pid, &ws, 0), pid);
        if (strncmp(sc, "0 0x0 ", 6) != 0)
                fail_msg("crdma-hook %s never blocked reading stdin (syscall: %s)", args[1], sc);
}

#define CAP(c) (UINT64_C(1) << (c))

static void test_running_inject_hook(void **state)
{
        (void) state;
        char mine[4096], his[4096];
        read_proc(getpid(), "status", mine, sizeof(mine));
        char *const args[] = { "crdma-hook", "createRuntime", NULL };
        running_hook_status(args, his, sizeof(his));
        /* The inject path's set (hook/privileges.c), each commented there. */
        const uint64_t inject = CAP(CAP_SYS_ADMIN) | CAP(CAP_SYS_CHROOT) | CAP(CAP_SYS_PTRACE) |
                                CAP(CAP_MKNOD) | CAP(CAP_CHOWN) | CAP(CAP_DAC_OVERRIDE) |
                                CAP(CAP_DAC_READ_SEARCH) | CAP(CAP_BPF) | CAP(CAP_SYS_RESOURCE) |
                                CAP(CAP_NET_ADMIN) | CAP(CAP_KILL);
        /* What exec gives root: its bounding set; anyone else: nothing. */
        uint64_t had = getuid() == 0 ? status_hex(mine, "CapBnd:\t") : 0;
        uint64_t eff = status_hex(his, "CapEff:\t"), prm = status_hex(his, "CapPrm:\t"),
                 inh = status_hex(his, "CapInh:\t"), amb = status_hex(his, "CapAmb:\t"),
                 bnd = status_hex(his, "CapBnd:\t");
        print_message("   createRuntime: CapEff %016" PRIx64 " CapPrm %016" PRIx64 " CapBnd %016" PRIx64
                      " NoNewPrivs %ld (test runs with CapBnd %016" PRIx64 ")\n",
                      eff, prm, bnd, status_num(his, "NoNewPrivs:\t"), status_hex(mine, "CapBnd:\t"));
        assert_int_equal(status_num(his, "NoNewPrivs:\t"), 1);
        assert_int_equal(eff, inject & had);
        assert_int_equal(prm, inject & had);
        assert_int_equal(inh, 0);
        assert_int_equal(amb, 0);
        /* Dropping from the bounding set needs CAP_SETPCAP, which root has. */
        if (had & CAP(CAP_SETPCAP))
                assert_int_equal(bnd, inject & status_hex(mine, "CapBnd:\t"));
}

static void test_running_read_only_hook(void **state)
{
        (void) state;
        char his[4096];
        /* plan reads a config from stdin and needs no privilege at all. */
        char *const args[] = { "crdma-hook", "plan", "--config", "-", NULL };
        running_hook_status(args, his, sizeof(his));
        print_message("   plan: CapEff %016" PRIx64 " CapPrm %016" PRIx64 " NoNewPrivs %ld\n",
                      status_hex(his, "CapEff:\t"), status_hex(his, "CapPrm:\t"),
                      status_num(his, "NoNewPrivs:\t"));
        assert_int_equal(status_num(his, "NoNewPrivs:\t"), 1);
        assert_int_equal(status_hex(his, "CapEff:\t"), 0);
        assert_int_equal(status_hex(his, "CapPrm:\t"), 0);
        assert_int_equal(status_hex(his, "CapAmb:\t"), 0);
}

/* LD_AUDIT makes the loader run a library's code as LD_PRELOAD does. */
static void test_ld_audit_refused(void **state)
{
        (void) state;
        int err[2];
        assert_int_equal(pipe2(err, O_CLOEXEC), 0);
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
                dup2(err[1], STDERR_FILENO);
                char *const args[] = { "crdma-hook", "devices", NULL };
                char *const env[] = { "PATH=/usr/bin:/bin", "LD_AUDIT=/nonexistent/audit.so", NULL };
                execve(hook_path, args, env);
                _exit(127);
        }
        close(err[1]);
        char text[2048] = "";
        size_t got = 0;
        ssize_t n;
        while (got < sizeof(text) - 1 && (n = read(err[0], text + got, sizeof(text) - 1 - got)) > 0)
                got += (size_t) n;
        close(err[0]);
        int ws;
        assert_int_equal(waitpid(pid, &ws, 0), pid);
        assert_true(WIFEXITED(ws));
        assert_int_equal(WEXITSTATUS(ws), 1);
        if (!strstr(text, "crdma-hook: error: LD_AUDIT is set: crdma-hook refuses to run"))
                fail_msg("stderr: %s", text);
}

int main(int argc, char **argv)
{
        if (argc != 4) {
                fprintf(stderr, "usage: %s HOOK LIBCRDMA FORTIFY(0|1)\n", argv[0]);
                return 2;
        }
        hook_path = argv[1];
        lib_path = argv[2];
        fortify_expected = strcmp(argv[3], "1") == 0;
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_hook_binary),
                cmocka_unit_test(test_library_binary),
                cmocka_unit_test(test_running_inject_hook),
                cmocka_unit_test(test_running_read_only_hook),
                cmocka_unit_test(test_ld_audit_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
