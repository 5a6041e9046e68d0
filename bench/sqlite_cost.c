/*
 * Times the per-request lookups of a user-token request on a copy of a seeded
 * authgraph database, with the SQLite that authgraph links (run.sh compiles
 * this against libsqlite3-sys's bundled amalgamation with its flags).
 *
 * Each query is prepared once and then bound, stepped and reset in a loop, as
 * sqlx does with its statement cache. Two shapes per lookup: the one SeaORM's
 * `find_by_id(..).one()` sends (`… LIMIT ?` with the limit bound) and the same
 * without the bound LIMIT. Prints one JSON object.
 *
 *   sqlite_cost DB [ITERATIONS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sqlite3.h"

static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9;
}

static char **load_ids(sqlite3 *db, const char *sql, int *n) {
  sqlite3_stmt *st;
  int cap = 1024, len = 0;
  char **ids = malloc(cap * sizeof *ids);
  if (sqlite3_prepare_v2(db, sql, -1, &st, 0) != SQLITE_OK) {
    fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
    exit(1);
  }
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (len == cap) ids = realloc(ids, (cap *= 2) * sizeof *ids);
    ids[len++] = strdup((const char *)sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  *n = len;
  return ids;
}

/* "SELECT "t"."c1", "t"."c2", … FROM "t" WHERE <where>" + tail, as SeaORM writes it. */
static char *seaorm_select(sqlite3 *db, const char *table, const char *where, const char *tail) {
  char q[256], *sql = malloc(8192);
  sqlite3_stmt *st;
  snprintf(q, sizeof q, "SELECT name FROM pragma_table_info('%s')", table);
  sqlite3_prepare_v2(db, q, -1, &st, 0);
  strcpy(sql, "SELECT ");
  int first = 1;
  while (sqlite3_step(st) == SQLITE_ROW) {
    if (!first) strcat(sql, ", ");
    first = 0;
    char col[200];
    snprintf(col, sizeof col, "\"%s\".\"%s\"", table, sqlite3_column_text(st, 0));
    strcat(sql, col);
  }
  sqlite3_finalize(st);
  char rest[512];
  snprintf(rest, sizeof rest, " FROM \"%s\" WHERE %s%s", table, where, tail);
  strcat(sql, rest);
  return sql;
}

/* Microseconds per lookup; *reprepares gets SQLITE_STMTSTATUS_REPREPARE. */
static double time_lookup(sqlite3 *db, const char *sql, char **ids, int n, const char *second,
                          int bound_limit, int iters, int *reprepares) {
  sqlite3_stmt *st;
  if (sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, 0) != SQLITE_OK) {
    fprintf(stderr, "%s: %s\n", sql, sqlite3_errmsg(db));
    exit(1);
  }
  int rows = 0;
  double t0 = now();
  for (int i = 0; i < iters; i++) {
    int p = 1;
    sqlite3_bind_text(st, p++, ids[i % n], -1, SQLITE_STATIC);
    if (second) sqlite3_bind_text(st, p++, second, -1, SQLITE_STATIC);
    if (bound_limit) sqlite3_bind_int64(st, p++, 1);
    while (sqlite3_step(st) == SQLITE_ROW) rows++;
    sqlite3_reset(st);
  }
  double us = (now() - t0) / iters * 1e6;
  *reprepares = sqlite3_stmt_status(st, SQLITE_STMTSTATUS_REPREPARE, 0);
  sqlite3_finalize(st);
  if (rows != iters) fprintf(stderr, "warning: %d rows for %d lookups: %s\n", rows, iters, sql);
  return us;
}

int main(int argc, char **argv) {
  if (argc < 2) {
    fprintf(stderr, "usage: %s DB [ITERATIONS]\n", argv[0]);
    return 2;
  }
  int iters = argc > 2 ? atoi(argv[2]) : 50000;
  sqlite3 *db;
  if (sqlite3_open_v2(argv[1], &db, SQLITE_OPEN_READONLY, 0) != SQLITE_OK) {
    fprintf(stderr, "open %s: %s\n", argv[1], sqlite3_errmsg(db));
    return 1;
  }
  int ns, nu, np;
  char **sids = load_ids(db, "SELECT id FROM sessions", &ns);
  char **uids = load_ids(db, "SELECT id FROM users ORDER BY rowid LIMIT 5000", &nu);
  char **pids = load_ids(db, "SELECT project_id FROM users LIMIT 1", &np);
  if (!ns || !nu || !np) {
    fprintf(stderr, "no sessions or users in %s\n", argv[1]);
    return 1;
  }
  const char *sw = "\"sessions\".\"id\" = ?";
  const char *uw = "\"users\".\"id\" = ? AND \"users\".\"project_id\" = ?";
  char *s_lim = seaorm_select(db, "sessions", sw, " LIMIT ?");
  char *s_plain = seaorm_select(db, "sessions", sw, "");
  char *u_lim = seaorm_select(db, "users", uw, " LIMIT ?");
  char *u_plain = seaorm_select(db, "users", uw, "");
  int r1, r2, r3, r4;
  /* Warm the page cache and the lookaside. */
  time_lookup(db, s_plain, sids, ns, 0, 0, iters / 10 + 1, &r1);
  double a = time_lookup(db, s_lim, sids, ns, 0, 1, iters, &r1);
  double b = time_lookup(db, s_plain, sids, ns, 0, 0, iters, &r2);
  double c = time_lookup(db, u_lim, uids, nu, pids[0], 1, iters, &r3);
  double d = time_lookup(db, u_plain, uids, nu, pids[0], 0, iters, &r4);
  printf("{\"sqlite_version\":\"%s\",\"iterations\":%d,\"sessions_rows\":%d,"
         "\"session_limit_param_us\":%.2f,\"session_limit_param_reprepares\":%d,"
         "\"session_plain_us\":%.2f,\"session_plain_reprepares\":%d,"
         "\"user_limit_param_us\":%.2f,\"user_limit_param_reprepares\":%d,"
         "\"user_plain_us\":%.2f,\"user_plain_reprepares\":%d}\n",
         sqlite3_libversion(), iters, ns, a, r1, b, r2, c, r3, d, r4);
  sqlite3_close(db);
  return 0;
}
