/* api_users: who is calling, and what they did.
 *   POST /api/login {"user", "password"} -> a token (7 days); failed
 *        attempts per user and address are limited (429)
 *   POST /api/logout, GET /api/me
 *   GET|POST /api/users, DELETE /api/users/{name}   (administrators)
 *   GET /api/audit[?limit=N]                         every command, newest first
 * Every other /api/ call needs "Authorization: Bearer TOKEN"; the cluster
 * token is accepted as an administrator named "cluster". */
#ifndef HERACRON_API_USERS_H
#define HERACRON_API_USERS_H

#include <stddef.h>

#include "http/http.h"

/* Fills req->user from the request's token, or sets a 401/503 and -1. */
int api_authenticate(struct http_req *req, struct http_resp *resp);

void api_login(const struct http_req *req, struct http_resp *resp);
void api_logout(const struct http_req *req, struct http_resp *resp);
void api_me(const struct http_req *req, struct http_resp *resp);
void api_users_list(const struct http_req *req, struct http_resp *resp);
void api_users_create(const struct http_req *req, struct http_resp *resp);
void api_users_delete(const struct http_req *req, struct http_resp *resp);
void api_audit_list(const struct http_req *req, struct http_resp *resp);

/* Records a command and its answer (never the request body: it may hold
 * a password). */
void api_audit_record(const struct http_req *req, const struct http_resp *resp,
                      const char *detail);

#endif
