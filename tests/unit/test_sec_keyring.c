/*
 * Unit tests for secure/keyring: a first key made in a new 0700 dir; wrap
 * and unwrap bound to kid, id and msisdn; a new key becomes the newest
 * (also several in one second), old records still unwrap and rewrap
 * moves them; unknown kids; refusal of a 0644 key file and a 0755 dir
 * with the file and mode named; malformed key files; a symlinked key
 * file.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "secure/keyring.h"

struct fix {
	char	base[64];	/* mkdtemp */
	char	dir[128];	/* base/vault, made by the code under test */
};

static int
setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	snprintf(f->base, sizeof(f->base), "/tmp/sg-keyring-XXXXXX");
	if (mkdtemp(f->base) == NULL)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "%s/vault", f->base);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fix *f = *state;
	char cmd[256];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->base);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void
write_file(const char *path, const char *text, mode_t mode)
{
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	fputs(text, fp);
	assert_int_equal(fclose(fp), 0);
	assert_int_equal(chmod(path, mode), 0);
}

static int
all_zero(const uint8_t *b, size_t n)
{
	while (n-- > 0)
		if (*b++ != 0)
			return 0;
	return 1;
}

/* "k" YYYYMMDD "T" hhmmss "Z-" 4 hex */
static void
assert_kid_format(const char *kid)
{
	size_t i;

	assert_int_equal(strlen(kid), 22);
	assert_int_equal(kid[0], 'k');
	for (i = 1; i < 9; i++)
		assert_true(kid[i] >= '0' && kid[i] <= '9');
	assert_int_equal(kid[9], 'T');
	for (i = 10; i < 16; i++)
		assert_true(kid[i] >= '0' && kid[i] <= '9');
	assert_int_equal(kid[16], 'Z');
	assert_int_equal(kid[17], '-');
	for (i = 18; i < 22; i++)
		assert_non_null(strchr("0123456789abcdef", kid[i]));
}

static void
test_first_key(void **state)
{
	struct fix *f = *state;
	char err[256] = "", path[256];
	struct sec_keyring *r;
	struct stat st;
	const char *kid;

	/* No dir, no create: refused with the dir named. */
	assert_null(sec_keyring_load(f->dir, 0, err, sizeof(err)));
	assert_non_null(strstr(err, f->dir));
	r = sec_keyring_load(f->dir, 1, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(sec_keyring_count(r), 1);
	kid = sec_keyring_current(r);
	assert_non_null(kid);
	assert_kid_format(kid);
	assert_int_equal(stat(f->dir, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	snprintf(path, sizeof(path), "%s/%s.key", f->dir, kid);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_size, 45);	/* 44 base64 + newline */
	sec_keyring_free(r);
	/* Loaded again: the same single key. */
	r = sec_keyring_load(f->dir, 1, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(sec_keyring_count(r), 1);
	sec_keyring_free(r);
}

static void
test_empty_dir(void **state)
{
	struct fix *f = *state;
	char err[256] = "";

	assert_int_equal(mkdir(f->dir, 0700), 0);
	assert_null(sec_keyring_load(f->dir, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "no key files"));
}

static void
test_wrap_unwrap(void **state)
{
	struct fix *f = *state;
	uint8_t dek[SEC_DEK_LEN], out[SEC_DEK_LEN];
	struct sec_vault_wrap w, t;
	char err[256];
	struct sec_keyring *r = sec_keyring_load(f->dir, 1, err, sizeof(err));
	size_t i;

	assert_non_null(r);
	for (i = 0; i < sizeof(dek); i++)
		dek[i] = (uint8_t)(i * 7 + 1);
	assert_int_equal(sec_keyring_wrap(r, "m1", "491701234567", dek, &w),
	    0);
	assert_string_equal(w.kid, sec_keyring_current(r));
	assert_memory_not_equal(w.wrapped, dek, SEC_DEK_LEN);
	assert_int_equal(sec_keyring_unwrap(r, "m1", "491701234567", &w, out),
	    0);
	assert_memory_equal(out, dek, SEC_DEK_LEN);
	/* Bound to id and msisdn; any changed byte is refused; wiped. */
#define REFUSED(id, ms, wp) do {					\
	memset(out, 0xee, sizeof(out));					\
	assert_int_equal(sec_keyring_unwrap(r, id, ms, wp, out), -1);	\
	assert_true(all_zero(out, sizeof(out)));			\
} while (0)
	REFUSED("m2", "491701234567", &w);
	REFUSED("m1", "491701234568", &w);
	REFUSED("m1|491701234567", "", &w);
	for (i = 0; i < sizeof(w.wrapped); i++) {
		t = w;
		t.wrapped[i] ^= 4;
		REFUSED("m1", "491701234567", &t);
	}
	t = w;
	t.nonce[3] ^= 4;
	REFUSED("m1", "491701234567", &t);
	/* Unknown kid. */
	t = w;
	snprintf(t.kid, sizeof(t.kid), "k20000101T000000Z-0000");
	REFUSED("m1", "491701234567", &t);
	t.kid[0] = '\0';
	REFUSED("m1", "491701234567", &t);
	assert_int_equal(sec_keyring_rewrap(r, "m1", "491701234567", &t), -1);
#undef REFUSED
	/* Two wraps of one DEK differ (fresh nonce). */
	assert_int_equal(sec_keyring_wrap(r, "m1", "491701234567", dek, &t),
	    0);
	assert_memory_not_equal(t.nonce, w.nonce, SEC_NONCE_LEN);
	sec_keyring_free(r);
}

static void
test_new_key_rewrap(void **state)
{
	struct fix *f = *state;
	uint8_t dek[SEC_DEK_LEN], out[SEC_DEK_LEN];
	char err[256], kid1[SEC_KID_MAX + 1], kid2[SEC_KID_MAX + 1];
	char kid3[SEC_KID_MAX + 1];
	struct sec_vault_wrap w, before;
	struct sec_keyring *r, *r2;

	memset(dek, 0x42, sizeof(dek));
	r = sec_keyring_load(f->dir, 1, err, sizeof(err));
	assert_non_null(r);
	snprintf(kid1, sizeof(kid1), "%s", sec_keyring_current(r));
	assert_int_equal(sec_keyring_wrap(r, "m9", "4930", dek, &w), 0);
	/* Two new keys within the same second still sort as made. */
	assert_int_equal(sec_keyring_new_key(f->dir, kid2, err, sizeof(err)),
	    0);
	assert_int_equal(sec_keyring_new_key(f->dir, kid3, err, sizeof(err)),
	    0);
	assert_kid_format(kid2);
	assert_kid_format(kid3);
	assert_true(strcmp(kid1, kid2) < 0);
	assert_true(strcmp(kid2, kid3) < 0);
	r2 = sec_keyring_load(f->dir, 0, err, sizeof(err));
	assert_non_null(r2);
	assert_int_equal(sec_keyring_count(r2), 3);
	assert_string_equal(sec_keyring_current(r2), kid3);
	/* The old record unwraps with the old key in the new ring... */
	assert_int_equal(sec_keyring_unwrap(r2, "m9", "4930", &w, out), 0);
	assert_memory_equal(out, dek, SEC_DEK_LEN);
	/* ...is moved to the newest... */
	before = w;
	assert_int_equal(sec_keyring_rewrap(r2, "m9", "4930", &w), 0);
	assert_string_equal(w.kid, kid3);
	assert_memory_not_equal(w.wrapped, before.wrapped, SEC_DEK_LEN);
	assert_int_equal(sec_keyring_unwrap(r2, "m9", "4930", &w, out), 0);
	assert_memory_equal(out, dek, SEC_DEK_LEN);
	/* ...which the old ring does not know. */
	assert_int_equal(sec_keyring_unwrap(r, "m9", "4930", &w, out), -1);
	/* Already current: a no-op. */
	before = w;
	assert_int_equal(sec_keyring_rewrap(r2, "m9", "4930", &w), 0);
	assert_memory_equal(&w, &before, sizeof(w));
	/* A record that does not open is not moved. */
	w = before;
	snprintf(w.kid, sizeof(w.kid), "%s", kid1);
	assert_int_equal(sec_keyring_rewrap(r2, "m9", "4930", &w), -1);
	assert_string_equal(w.kid, kid1);
	/* New wraps use the newest key. */
	assert_int_equal(sec_keyring_wrap(r2, "m10", "4930", dek, &w), 0);
	assert_string_equal(w.kid, kid3);
	sec_keyring_free(r);
	sec_keyring_free(r2);
}

static void
test_permissions(void **state)
{
	struct fix *f = *state;
	char err[256], path[256], want[300];
	struct sec_keyring *r;
	const char *kid;

	r = sec_keyring_load(f->dir, 1, err, sizeof(err));
	assert_non_null(r);
	kid = sec_keyring_current(r);
	snprintf(path, sizeof(path), "%s/%s.key", f->dir, kid);
	sec_keyring_free(r);
	/* A key file readable by the group and others. */
	assert_int_equal(chmod(path, 0644), 0);
	err[0] = '\0';
	assert_null(sec_keyring_load(f->dir, 1, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: mode 0644, want 0600", path);
	assert_string_equal(err, want);
	assert_int_equal(chmod(path, 0640), 0);
	assert_null(sec_keyring_load(f->dir, 1, err, sizeof(err)));
	assert_non_null(strstr(err, "mode 0640"));
	assert_int_equal(chmod(path, 0600), 0);
	/* The directory open to others. */
	assert_int_equal(chmod(f->dir, 0755), 0);
	assert_null(sec_keyring_load(f->dir, 1, err, sizeof(err)));
	snprintf(want, sizeof(want), "%s: mode 0755, want 0700", f->dir);
	assert_string_equal(err, want);
	/* Nor will a new key be made there. */
	assert_int_equal(sec_keyring_new_key(f->dir, want, err, sizeof(err)),
	    -1);
	assert_non_null(strstr(err, "mode 0755"));
	assert_int_equal(chmod(f->dir, 0700), 0);
	/* Back to safe modes: loads. */
	r = sec_keyring_load(f->dir, 0, err, sizeof(err));
	assert_non_null(r);
	assert_int_equal(sec_keyring_count(r), 1);
	sec_keyring_free(r);
}

static void
test_malformed(void **state)
{
	struct fix *f = *state;
	char err[256], path[256];
	struct sec_keyring *r;

	assert_int_equal(mkdir(f->dir, 0700), 0);
	/* Not a key file: ignored. */
	snprintf(path, sizeof(path), "%s/README", f->dir);
	write_file(path, "keys live here\n", 0644);
	snprintf(path, sizeof(path), "%s/k20260101T000000Z-0001.key", f->dir);
	/* 31 bytes. */
	write_file(path, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==\n", 0600);
	assert_null(sec_keyring_load(f->dir, 0, err, sizeof(err)));
	assert_non_null(strstr(err, path));
	assert_non_null(strstr(err, "not a key"));
	/* Not base64. */
	write_file(path, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA*=\n", 0600);
	assert_null(sec_keyring_load(f->dir, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "not a key"));
	/* Empty. */
	write_file(path, "", 0600);
	assert_null(sec_keyring_load(f->dir, 0, err, sizeof(err)));
	/* Good (32 bytes, no newline). */
	write_file(path, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", 0600);
	r = sec_keyring_load(f->dir, 0, err, sizeof(err));
	assert_non_null(r);
	assert_string_equal(sec_keyring_current(r), "k20260101T000000Z-0001");
	sec_keyring_free(r);
	/* A file name that is not a key id. */
	snprintf(path, sizeof(path), "%s/bad name.key", f->dir);
	write_file(path, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", 0600);
	assert_null(sec_keyring_load(f->dir, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "not a key id"));
	assert_int_equal(unlink(path), 0);
	/* A directory named like a key. */
	snprintf(path, sizeof(path), "%s/kdir.key", f->dir);
	assert_int_equal(mkdir(path, 0700), 0);
	assert_null(sec_keyring_load(f->dir, 0, err, sizeof(err)));
	assert_non_null(strstr(err, "kdir.key"));
}

/* A key file that is a symlink (even to a good 0600 key of ours) is
 * refused: the ring reads only files in its own 0700 directory. */
static void
test_symlink(void **state)
{
	struct fix *f = *state;
	char err[256], path[256], target[256];
	struct sec_keyring *r;

	assert_int_equal(mkdir(f->dir, 0700), 0);
	snprintf(target, sizeof(target), "%s/outside.key", f->base);
	write_file(target, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", 0600);
	snprintf(path, sizeof(path), "%s/k20260101T000000Z-0001.key", f->dir);
	assert_int_equal(symlink(target, path), 0);
	err[0] = '\0';
	assert_null(sec_keyring_load(f->dir, 0, err, sizeof(err)));
	assert_non_null(strstr(err, path));
	/* the same bytes as a real file load */
	assert_int_equal(unlink(path), 0);
	write_file(path, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", 0600);
	r = sec_keyring_load(f->dir, 0, err, sizeof(err));
	assert_non_null(r);
	sec_keyring_free(r);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_first_key, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_empty_dir, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_wrap_unwrap, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_new_key_rewrap, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_permissions, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_symlink, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
