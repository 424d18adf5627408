/*
 * sealgate: the gateway's one binary. It runs the daemon (-c FILE; see
 * gateway/daemon.h), checks a configuration (--check-config) and makes
 * password hashes for it (`sealgate passwd`).
 *
 * Exit codes: 0 ok (the daemon: a clean stop), 1 the configuration (or
 * the password) was refused or the daemon could not start, 2 usage.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <openssl/crypto.h>

#include "gateway/config.h"
#include "gateway/daemon.h"
#include "gateway/passwd.h"
#include "secure/keyring.h"

#ifndef SG_VERSION
#define SG_VERSION "unknown"
#endif

#define ERR_CAP	8192	/* every error of a config, one per line */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: sealgate [-c FILE]                 run the gateway\n"
	    "       sealgate --check-config [-c FILE]  check a configuration\n"
	    "       sealgate passwd [--stdin] [--iterations N]\n"
	    "                                          print a password hash "
	    "for an account\n"
	    "       sealgate keys new [-c FILE]       add a vault key (it "
	    "wraps from now on)\n"
	    "       sealgate keys list [-c FILE]      list the vault keys\n"
	    "       sealgate --help | --version\n"
	    "\n"
	    "  -c, --config FILE   configuration (default %s)\n"
	    "  --check-config      print \"configuration OK\" or every error "
	    "(file:line:column: key: why)\n"
	    "\n"
	    "passwd reads the password (at most %d characters, as SMPP 3.4 "
	    "allows) from\nstandard input: from a terminal without echo and "
	    "twice; with --stdin one line,\nno prompt (for scripts). It "
	    "prints a line for an account's password_hash.\n",
	    GW_CONFIG_DEFAULT_PATH, GW_PASSWD_LEN_MAX);
}

/* Reads one line from fd 0 a byte at a time: no stdio buffer keeps a copy
 * of the password. Returns its length, -1 at EOF before any byte, -2 when
 * longer than cap - 1 (the rest of the line is read and dropped). */
static int
read_secret_line(char *buf, size_t cap)
{
	size_t n = 0;
	bool over = false, any = false;
	char c;

	for (;;) {
		ssize_t r = read(STDIN_FILENO, &c, 1);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		any = true;
		if (c == '\n')
			break;
		if (n + 1 < cap)
			buf[n++] = c;
		else
			over = true;
	}
	c = 0;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	buf[n] = '\0';
	if (over)
		return -2;
	if (!any)
		return -1;
	return (int)n;
}

/* Prompts on the terminal (stderr) when asked, with echo off on a tty. */
static int
read_password(const char *prompt, char *buf, size_t cap)
{
	struct termios old, quiet;
	bool tty = isatty(STDIN_FILENO) &&
	    tcgetattr(STDIN_FILENO, &old) == 0;
	int n;

	if (prompt != NULL) {
		fputs(prompt, stderr);
		fflush(stderr);
	}
	if (tty) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	n = read_secret_line(buf, cap);
	if (tty) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		if (prompt != NULL)
			fputc('\n', stderr);
	}
	return n;
}

static int
cmd_passwd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "stdin", no_argument, NULL, 's' },
		{ "iterations", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	char pw[64], again[64], hash[GW_PASSWD_HASH_MAX + 1];
	bool from_stdin = false, ask;
	unsigned long iter = 0;
	char *end;
	int ch, n, rc = 1;

	optind = 1;
	while ((ch = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (ch) {
		case 's':
			from_stdin = true;
			break;
		case 'i':
			errno = 0;
			iter = strtoul(optarg, &end, 10);
			if (errno != 0 || *end != '\0' ||
			    iter < GW_PASSWD_ITER_MIN ||
			    iter > GW_PASSWD_ITER_MAX) {
				fprintf(stderr, "sealgate passwd: --iterations "
				    "must be %u..%u\n", GW_PASSWD_ITER_MIN,
				    GW_PASSWD_ITER_MAX);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	ask = !from_stdin && isatty(STDIN_FILENO);
	n = read_password(ask ? "Password: " : NULL, pw, sizeof(pw));
	if (n == -1) {
		fprintf(stderr, "sealgate passwd: no password on standard "
		    "input\n");
		goto out;
	}
	if (n == -2 || n > GW_PASSWD_LEN_MAX) {
		fprintf(stderr, "sealgate passwd: the password is longer than "
		    "%d characters (SMPP 3.4 allows no more)\n",
		    GW_PASSWD_LEN_MAX);
		goto out;
	}
	if (n == 0) {
		fprintf(stderr, "sealgate passwd: the password is empty\n");
		goto out;
	}
	if (ask) {
		int m = read_password("Again: ", again, sizeof(again));

		if (m != n || CRYPTO_memcmp(pw, again, (size_t)n) != 0) {
			fprintf(stderr, "sealgate passwd: the passwords "
			    "differ\n");
			goto out;
		}
	}
	if (gw_passwd_hash(pw, (size_t)n, (uint32_t)iter, hash,
	    sizeof(hash)) != 0) {
		fprintf(stderr, "sealgate passwd: hashing failed\n");
		goto out;
	}
	printf("%s\n", hash);
	rc = fflush(stdout) == 0 ? 0 : 1;
out:
	OPENSSL_cleanse(pw, sizeof(pw));
	OPENSSL_cleanse(again, sizeof(again));
	return rc;
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Prints the kids of dir oldest first, the current one marked. */
static int
keys_list(const char *dir, const char *current)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	if (d == NULL) {
		fprintf(stderr, "sealgate keys: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		char **nn;

		if (l <= 4 || strcmp(de->d_name + l - 4, ".key") != 0)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			if ((nn = realloc(names, cap * sizeof(*nn))) == NULL) {
				rc = 1;
				break;
			}
			names = nn;
		}
		if ((names[n] = strndup(de->d_name, l - 4)) == NULL) {
			rc = 1;
			break;
		}
		n++;
	}
	closedir(d);
	qsort(names, n, sizeof(*names), cmp_str);
	for (size_t i = 0; i < n; i++) {
		if (rc == 0)
			printf("%s%s\n", names[i], strcmp(names[i], current) ==
			    0 ? " (current)" : "");
		free(names[i]);
	}
	free(names);
	return rc;
}

/* `sealgate keys new|list [-c FILE]`: the vault key ring of the
 * configured secure.vault_dir. */
static int
cmd_keys(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = GW_CONFIG_DEFAULT_PATH, *sub;
	char kid[SEC_KID_MAX + 1], why[512], *err;
	struct sec_keyring *ring;
	struct gw_config *cfg;
	int ch, rc = 1;

	if (argc < 2 || (strcmp(argv[1], "new") != 0 &&
	    strcmp(argv[1], "list") != 0)) {
		usage(stderr);
		return 2;
	}
	sub = argv[1];
	optind = 1;
	while ((ch = getopt_long(argc - 1, argv + 1, "c:h", opts, NULL)) !=
	    -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	if ((err = malloc(ERR_CAP)) == NULL)
		return 1;
	if (gw_config_load(path, &cfg, err, ERR_CAP) != 0) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return 1;
	}
	free(err);
	why[0] = '\0';
	if (strcmp(sub, "new") == 0) {
		if (sec_keyring_new_key(cfg->secure.vault_dir, kid, why,
		    sizeof(why)) != 0)
			fprintf(stderr, "sealgate keys new: %s\n", why);
		else {
			printf("%s\n", kid);
			rc = fflush(stdout) == 0 ? 0 : 1;
		}
	} else if ((ring = sec_keyring_load(cfg->secure.vault_dir, 0, why,
	    sizeof(why))) == NULL)
		fprintf(stderr, "sealgate keys list: %s\n", why);
	else {
		rc = keys_list(cfg->secure.vault_dir,
		    sec_keyring_current(ring));
		sec_keyring_free(ring);
	}
	gw_config_free(cfg);
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *path = GW_CONFIG_DEFAULT_PATH;
	struct gw_config *cfg;
	bool check = false;
	char *err;
	int ch;

	/* Everything sealgate writes (the database and its WAL, vault keys,
	 * the OTP secret, the development certificate's key, var/ itself)
	 * is for this user alone: nothing is made group- or world-readable
	 * whatever the caller's umask. */
	umask(077);
	if (argc >= 2 && strcmp(argv[1], "passwd") == 0)
		return cmd_passwd(argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[1], "keys") == 0)
		return cmd_keys(argc - 1, argv + 1);
	while ((ch = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (ch) {
		case 'c':
			path = optarg;
			break;
		case 'C':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("sealgate %s\n", SG_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "sealgate: unexpected argument '%s'\n",
		    argv[optind]);
		usage(stderr);
		return 2;
	}
	if ((err = malloc(ERR_CAP)) == NULL) {
		fprintf(stderr, "sealgate: out of memory\n");
		return 1;
	}
	if (gw_config_load(path, &cfg, err, ERR_CAP) != 0) {
		fprintf(stderr, "%s\n", err);
		free(err);
		return 1;
	}
	free(err);
	if (check) {
		gw_config_free(cfg);
		printf("configuration OK\n");
		return 0;
	}
	return gw_daemon_run(cfg, SG_VERSION);
}
