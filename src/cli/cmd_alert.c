/* heracron [-c FILE] [--smtp.KEY=VALUE ...] alert test --to ADDRESS:
 * sends a test mail with the node's SMTP settings (no server needed). */
#include "config.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "mail/smtp.h"

int cmd_alert(struct cli *cli, int argc, char **argv) {
  if (argc != 4 || strcmp(argv[1], "test") != 0 || strcmp(argv[2], "--to") != 0 ||
      strchr(argv[3], '@') == NULL) {
    fprintf(stderr, "usage: heracron [-c FILE] [--smtp.KEY=VALUE ...] alert "
                    "test --to ADDRESS\n");
    return CLI_USAGE;
  }
  char text[512], when[64];
  time_t now = time(NULL);
  struct tm tm;
  strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&now, &tm));
  snprintf(text, sizeof(text),
           "This is a test mail from heracron, sent at %s through %s:%u.\n"
           "Failure alerts reach their recipients the same way.\n",
           when, cli->cfg.smtp.host, cli->cfg.smtp.port);
  struct smtp_mail m = {.to = {argv[3]}, .nto = 1,
                        .subject = "[heracron] test mail", .text = text};
  struct smtp_result r;
  if (smtp_send(&cli->cfg, &m, &r) < 0 || r.code[0] / 100 != 2) {
    fprintf(stderr, "heracron: alert test: not sent to %s: %s (recipient: %d)\n",
            argv[3], r.reply, r.code[0]);
    return CLI_FAILED;
  }
  printf("test mail sent to %s: %s\n", argv[3], r.reply);
  return CLI_OK;
}
