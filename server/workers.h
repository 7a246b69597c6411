/*
 * workers: arcaded --workers N, N processes serving one port, with a supervisor that serves nothing.
 */
#ifndef ARCADE_WORKERS_H
#define ARCADE_WORKERS_H

#include "server.h"

#define WORKERS_MAX 64

/* Hold cfg->port (0: pick one), start cfg->workers workers that each run the whole server on it,
 * start again those that die, and forward a stop signal to them all. Returns the exit status: 0
 * once every worker has stopped cleanly after a stop signal, 1 if one did not, or if the port could
 * not be held or a worker could not start. The database must be one several processes may share. */
int workers_run(const struct config *cfg);

#endif
