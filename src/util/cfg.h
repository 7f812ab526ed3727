/* cfg: the configuration of heracrond and heracron.
 *
 * Sources, later ones win: built-in defaults, the INI file (-c FILE), then
 * command-line overrides "--section.key=value".  Every key of the file can
 * be overridden.  Secrets (db.password, cluster.token, smtp.password) may
 * come from files (*_file keys); they are never logged.
 *
 * A struct cfg owns all its strings; cfg_free() releases them. */
#ifndef HERACRON_CFG_H
#define HERACRON_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CFG_MAX_GROUPS 32

struct cfg {
  struct {
    char *name;       /* unique node name; default: host name */
    char *address;    /* host[:port] advertised for the master port */
    char *groups;     /* comma list of host groups; default "default" */
    bool master_group;
    char *work_dir;
    uint32_t work_keep_days; /* day directories kept; 0 = forever */
    uint32_t max_running;
    char *interpreters;     /* "type=command [args],..." per job type */
    uint32_t log_max_bytes; /* per instance: head and tail kept */
    uint32_t kill_grace_ms; /* SIGTERM -> SIGKILL on timeout or stop */
  } node;
  struct {
    char *listen;              /* host:port for worker connections */
    uint32_t lease_ms;         /* lease length */
    uint32_t renew_ms;         /* renewal period */
    uint32_t heartbeat_ms;     /* worker heartbeat period */
    uint32_t worker_timeout_ms;/* silence after which a peer is dropped */
    uint32_t max_frame;        /* bytes, largest accepted frame payload */
    uint32_t write_queue_max;  /* bytes queued to one peer before close */
    uint32_t auth_timeout_ms;  /* time a new peer has to authenticate */
    uint32_t request_timeout_ms; /* default per-request timeout */
    uint32_t flush_ms;         /* registry flush period to MariaDB */
    bool lock_takeover;        /* use the named lock for fast failover */
    uint32_t max_cpu_pct;      /* workers busier than this get no new work */
    uint32_t max_mem_pct;      /* workers using more memory get no new work */
  } master;
  struct {
    char *listen; /* host:port of the HTTP API and console */
    char *console_dir; /* the web console's static files */
  } http;
  struct {
    char *host;
    uint32_t port;
    char *socket;
    char *user;
    char *password; /* secret */
    char *password_file;
    char *database;
    uint32_t connect_timeout_ms;
    uint32_t batch_max; /* operations per store transaction */
  } db;
  struct {
    char *token; /* secret */
    char *token_file;
  } cluster;
  struct {
    char *host;
    uint32_t port;
    char *from;
    char *starttls; /* required | opportunistic | off */
    char *user;
    char *password; /* secret */
    char *password_file;
    uint32_t group_s; /* alerts to one address within this go in one mail */
  } smtp;
  struct {
    char *url;
  } console;
  struct {
    char *level; /* error | warn | info | debug */
  } log;
};

/* Fills cfg with the built-in defaults.  Returns 0, -1 on allocation
 * failure. */
int cfg_init(struct cfg *cfg);
void cfg_free(struct cfg *cfg);

/* Sets one key from its text form.  Returns 0; -1 with a message in err
 * (unknown section or key, bad number, bad boolean). */
int cfg_set(struct cfg *cfg, const char *section, const char *key,
            const char *value, char *err, size_t errlen);

/* Reads an INI file.  Returns 0; -1 with a message in err naming the file
 * and line. */
int cfg_load_file(struct cfg *cfg, const char *path, char *err, size_t errlen);

/* Applies an override of the form "section.key=value" (leading dashes
 * already stripped).  Returns 0 or -1 with err. */
int cfg_override(struct cfg *cfg, const char *arg, char *err, size_t errlen);

/* Reads the secrets named by *_file keys into their values and checks
 * cross-key rules (lease_ms > renew_ms, ...).  Returns 0 or -1 with err. */
int cfg_finish(struct cfg *cfg, char *err, size_t errlen);

/* Splits "host:port" (also "[v6]:port").  host is written into hostbuf.
 * Returns 0, -1 if malformed or the port is out of range. */
int cfg_split_hostport(const char *hp, char *hostbuf, size_t hostlen,
                       uint16_t *port);

/* Splits the comma list in s into at most max trimmed, non-empty items,
 * written as pointers into buf (a copy of s the caller provides, modified
 * in place).  Returns the count. */
int cfg_split_list(char *buf, char **items, int max);

/* Prints every key with its value to f, secrets as "(set)". */
void cfg_dump(const struct cfg *cfg, void *f);

#endif
