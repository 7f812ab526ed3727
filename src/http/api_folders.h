/* api_folders: the folder tree's variables, inherited by the jobs below.
 *   GET /api/folders
 *   PUT /api/folders/{path}  {"variables": {"name": "value", ...}}  */
#ifndef HERACRON_API_FOLDERS_H
#define HERACRON_API_FOLDERS_H

#include "http/http.h"

void api_folders_list(const struct http_req *req, struct http_resp *resp);
void api_folders_put(const struct http_req *req, struct http_resp *resp);

#endif
