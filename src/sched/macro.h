/* macro: expansion of variables and hera's date macros in job scripts, so
 * that scripts written for hera run unchanged.  Pure: no I/O, no libc time
 * zones; dates are civil times computed with sched/civil.h.
 *
 * Inside a script:
 *  - ${key} is the value of the first variable with that key (the job's
 *    own, then its folders', nearest first).  A value that is exactly one
 *    ${...} token is expanded again, at most MACRO_MAX_DEPTH times (then
 *    the error "variable loop"); any other value is inserted as it is.
 *    Variables win over the two macros below.
 *  - ${yesterday} is the day before the anchor, as yyyyMMdd.
 *  - ${zdt...} is the anchor changed by a chain of hera's methods (those of
 *    a Java Calendar) and an optional terminal:
 *      ${zdt.addDay(-1).format("yyyyMMdd")}   ${zdt.add(2, -1).set(5, 1)}
 *    Changers: addYear(n) addMonth(n) addDay(n) addHour(n) addMinute(n)
 *    addSecond(n), add(field, n), set(field, v), with Java's field numbers:
 *    1 YEAR, 2 MONTH, 3/4 WEEK_OF_YEAR/MONTH and 8 DAY_OF_WEEK_IN_MONTH
 *    (add only: weeks), 5 DAY_OF_MONTH, 6 DAY_OF_YEAR, 7 DAY_OF_WEEK (add
 *    only: days), 10 HOUR, 11 HOUR_OF_DAY, 12 MINUTE, 13 SECOND.
 *    As in Java, adding months or years keeps the day but clamps it to the
 *    month's length (Jan 31 + 1 month = Feb 28 or 29), while set() is
 *    lenient and carries overflow (set(5, 0) is the last day of the
 *    previous month; Jan 31 then set(2, 1) is Mar 3 or 2).  set(2, v)
 *    takes Java's 0-based month: 0 = January.  Terminals: format("pattern")
 *    with SimpleDateFormat letters (y M d H m s, also S D E a h k K; other
 *    letters are errors; 'quoted' text and '' for a quote), getTime() and
 *    getMillis(): seconds and milliseconds since the epoch, the anchor read
 *    as UTC (civil time has no zone).  Without a terminal the format is
 *    "yyyy-MM-dd HH:mm:ss".  Numbers are integers of at most 9 digits,
 *    optionally negative; strings are in double quotes and cannot hold
 *    one; blanks are allowed inside the parentheses only.  Arithmetic is
 *    on civil time, so there is no DST: addHour(24) is addDay(1).  Dates
 *    must stay within years 1..9999.
 *
 * Like hera (Velocity), an unknown ${key} is left as it is, so shell
 * expansions such as ${HOME} or ${1:-x} pass through untouched; the text
 * after its "${" is still scanned, so ${x:-${yesterday}} expands the inner
 * macro.  '$' not followed by '{', and "${" with no closing '}', are
 * literal.  Errors inside ${zdt...} (syntax, unknown method or field,
 * wrong arguments, out-of-range dates) fail the whole expansion. */
#ifndef HERACRON_MACRO_H
#define HERACRON_MACRO_H

#include <stddef.h>

#include "sched/civil.h"

/* Re-expansions of a variable whose value is itself a ${...} token. */
#define MACRO_MAX_DEPTH 10

/* A variable: key=value, from a job or its folders (nearest first). */
struct macro_var {
  const char *key;
  const char *value; /* NULL is read as "" */
};

/* Expands script.  anchor: the action's civil local time (may be NULL if
 * the script uses no date macro).  vars: n variables, the first of a key
 * wins.  Returns a malloc'd string the caller frees, or NULL with err
 * filled with a message naming the macro and its byte offset in script,
 * e.g. "bad macro at offset 17: unknown method 'adDay' in
 * ${zdt.adDay(-1)}". */
char *macro_expand(const char *script, const struct civil *anchor,
                   const struct macro_var *vars, size_t n, char *err,
                   size_t errlen);

#endif
