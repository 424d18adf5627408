/*
 * Schema migrations (schema.c), shared by the backends: the backend gives
 * two primitives, the SQL steps live in schema.c.
 */
#ifndef DB_SCHEMA_H
#define DB_SCHEMA_H

#include <stddef.h>

struct db_migration {
	int version;
	const char *const *sql;		/* NULL-terminated statements */
};

struct db_schema_io {
	/* Runs one statement. 0, or -1 with a reason in err. */
	int (*exec)(void *be, const char *sql, char *err, size_t errlen);
	/* MAX(version) of schema_version, 0 if it has no row. */
	int (*version)(void *be, int *version, char *err, size_t errlen);
};

/* Brings the database to db_schema_version(). 0, or -1 with a reason in
 * err (including "newer than this program"). */
int db_schema_migrate(const struct db_schema_io *io, void *be, int mariadb,
    char *err, size_t errlen);

#endif
