/**
 * Environment variables that make a runtime run other code than its command says: the loader and
 * interpreter hooks of common runtimes (Node, the dynamic linker, shells, Python, Perl, Ruby, the
 * JVM, PHP, glibc, git) and PATH, which picks the binary a bare command name runs. For example,
 * `NODE_OPTIONS=--import=data:text/javascript,…` runs any script inside a `node` command.
 *
 * Provider schemas mark their env maps with `"x-lessor-code-keys": CODE_ENV_KEYS` (these entries
 * decide the code that runs with the tenant's secrets), and the process provider, whose runtimes
 * run as Lessor's own user, with `"x-lessor-privileged-keys": CODE_ENV_KEYS` too (only an admin may
 * set them). See src/api/spec-privileges.ts. A denylist is never complete: it covers the well-known
 * hooks, and an admin-chosen command is trusted with the rest of its environment.
 */
export const CODE_ENV_KEYS =
  '^(PATH|NODE_OPTIONS|NODE_PATH|LD_[A-Z_]+|DYLD_[A-Z_]+|BASH_ENV|ENV|SHELLOPTS|BASHOPTS|PS4|' +
  'PYTHON[A-Z_]*|PERL5OPT|PERL5LIB|PERLLIB|PERL5DB|RUBYOPT|RUBYLIB|JAVA_TOOL_OPTIONS|_JAVA_OPTIONS|' +
  'JDK_JAVA_OPTIONS|CLASSPATH|PHPRC|PHP_INI_SCAN_DIR|GCONV_PATH|GIT_[A-Z_]+)$';
