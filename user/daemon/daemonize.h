/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Going to the background before any thread starts: fork(2) keeps only the calling thread, so
 * detaching after the L7 proxy's workers started would leave them behind. The parent waits
 * until the child says how its start went and exits with that status, so that whoever
 * started limpetd still learns whether it runs (and the child's start-up errors still reach
 * the terminal).
 */
#ifndef LIMPET_DAEMONIZE_H
#define LIMPET_DAEMONIZE_H

/* Fork; returns in the child only (in a session of its own), 0 or -errno if it cannot. The
 * parent exits with the status daemonize_done() sends, or 1 if the child exits first. */
int daemonize_begin(void);
/* In the child, once started: the parent exits 0; the working directory becomes / and the
 * standard streams /dev/null. */
void daemonize_done(void);

#endif /* LIMPET_DAEMONIZE_H */
