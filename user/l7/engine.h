/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * What the engine's files share (l7.c, worker.c, client.c, backend.c, pool.c, http.c, head.c,
 * io.c, timer.c, proxyproto.c, errors.c): threads, connections, buffers, timers.
 *
 * One worker = one thread = one epoll loop (edge-triggered) with its own SO_REUSEPORT listeners,
 * its clients, its backend connections and its pool of idle ones: nothing on the request path is
 * shared with another thread but the snapshot (read-only) and the counters (atomics).
 *
 * A client connection carries one exchange at a time (pipelined requests wait in its buffer):
 * its request head is parsed in place in the client's buffer, sent to the backend as a gather
 * list (the head with some ranges left out, a few added lines, then the body bytes that follow),
 * and the body is relayed through the same buffer; the response comes back the same way through
 * the backend connection's buffer. Memory per connection is fixed: a body of any size streams.
 */
#ifndef LIMPET_L7_ENGINE_H
#define LIMPET_L7_ENGINE_H

#include <http_parser.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "l7/l7-int.h"

#define L7_BUF_SIZE	16384	/* a connection's buffer, per direction: the head limit (431)
				 * and the body relay window */
#define L7_LINE_MAX	8192	/* request line limit (414) */
#define L7_HDRS_MAX	32	/* headers the proxy looks at, per message */
#define L7_DROPS_MAX	16	/* ranges left out of a head */
#define L7_IOV_MAX	(L7_DROPS_MAX + 6)
#define L7_INS_MAX	512	/* lines the proxy adds to a head, or an error response */
#define L7_PP_MAX	108	/* PROXY v1's longest line; v2 with IPv6 is 52 */
#define L7_POOL_MAX	256	/* idle backend connections kept per worker */
#define L7_FREE_MAX	64	/* freed connections kept per worker for reuse */
#define L7_ACCEPT_BATCH	32	/* accepts per listener event, so one listener can't starve */

/* Timeouts (ms), one FIFO list each: all of a list's entries have the same duration, so
 * appending keeps it sorted and arming is O(1). */
enum l7_tkind {
	T_NONE,
	T_HEAD,		/* a request head must arrive whole in 10 s (slowloris): 408 */
	T_IDLE,		/* keep-alive client with no request, or a body stalled, 60 s: closed */
	T_CONNECT,	/* backend connect, 5 s: 504 */
	T_RESP,		/* backend response head after the request was sent, 30 s: 504 */
	T_POOL,		/* idle pooled backend connection, 10 s: closed (servers close theirs) */
	T_LINGER,	/* draining a client after its last response before close, 2 s */
	T_PAUSE,	/* a listener out of file descriptors stops accepting for 1 s */
	T_KINDS
};

struct l7_tnode {
	struct l7_tnode *prev, *next;
	uint64_t at;			/* ms, the worker's clock */
	uint8_t kind;
};

enum l7_ctype { C_LISTEN, C_EVENT, C_CLIENT, C_BACKEND };

/* What epoll's data.ptr points at: the first member of every socket-owning object. */
struct l7_conn {
	int fd;				/* -1 once closed (its events in the same batch are dropped) */
	uint8_t type;
	bool rd, wr;			/* may read / may write: set by events, cleared on EAGAIN */
	bool hup;			/* the peer shut its side: read on until read() says 0 */
	struct l7_tnode tm;
	struct l7_conn *dead;		/* closed in this batch: freed after it */
};

struct l7_buf {
	uint32_t w;			/* bytes in d */
	char d[L7_BUF_SIZE];
};

/* Bytes to write, by reference: they stay where they are until written. */
struct l7_outq {
	struct iovec v[L7_IOV_MAX];
	uint8_t i, n;
};

struct l7_hdr {
	uint32_t at, end;		/* the line: [at, end) (end: the next line's start) */
	uint32_t val, val_len;
	uint8_t kind;			/* enum l7_hkind */
};

enum l7_hkind { H_OTHER, H_HOST, H_CL, H_TE, H_COOKIE, H_HOP, H_XFP };

/* A message being parsed in a buffer: offsets are from the buffer's start. */
struct l7_msg {
	http_parser hp;
	const char *base;
	uint32_t start;			/* the message's first byte */
	uint32_t pp;			/* where parsing resumes */
	uint32_t head_end;		/* 0 until the head is whole */
	uint32_t url, url_len;
	uint32_t field, field_len;	/* the header name being read */
	uint8_t last;			/* which callback came last: splits continue a piece */
	uint8_t nh;
	bool line_done, done, skip_body, too_many, bad;
	uint8_t nhost, ncl, nte;
	struct l7_hdr h[L7_HDRS_MAX];
};

struct l7_range {
	uint32_t from, to;
};

struct l7_wsnap;
struct l7_worker;
struct l7_bk;

enum l7_cstate { CS_HEAD, CS_XCHG, CS_CLOSING };

struct l7_cli {
	struct l7_conn c;
	struct l7_worker *w;
	struct l7_cli *prev, *next;	/* the worker's clients */
	struct l7_wsnap *ws;		/* the snapshot its current request uses */
	const struct l7_listen *ln;	/* its (VIP, port) entry in ws */
	struct sockaddr_storage peer, local;
	uint8_t st;			/* enum l7_cstate */
	/* the exchange */
	bool close_after, set_cookie, retried, stale_retried, lingering, shut;
	bool req_sent, resp_started, counted, streamed;
	uint32_t qp;			/* request bytes up to here are queued to the backend */
	const struct l7_server *srv;
	struct l7_bk *bk;		/* in the exchange; between them, the one kept for reuse */
	struct l7_req_info ri;		/* what the pick saw (points into in) */
	uint64_t t_sent;		/* us: the request's last byte went */
	uint8_t ndrops;
	struct l7_range drops[L7_DROPS_MAX];
	struct l7_outq rq, rs;		/* to the backend, to the client */
	uint16_t rq_xff_len;		/* rq_ins starts with the connection's X-Forwarded-For */
	uint16_t rq_ins_len, rs_ins_len;
	char rq_ins[L7_INS_MAX], rs_ins[L7_INS_MAX];
	struct l7_msg req;
	struct l7_buf in;
};

struct l7_bk {
	struct l7_conn c;
	struct l7_worker *w;
	struct l7_cli *owner;		/* NULL while pooled */
	struct l7_bk *pprev, *pnext;	/* pool bucket */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	uint8_t pp;			/* PROXY protocol version it was opened with */
	bool connected, reused, got;	/* got: a response byte came on this exchange */
	uint32_t qp;			/* response bytes up to here are queued to the client */
	struct l7_msg resp;
	uint8_t pp_len;
	char pp_hdr[L7_PP_MAX];
	struct l7_buf in;
};

/* A snapshot as one worker uses it. */
struct l7_wsnap {
	struct l7_snap *snap;
	struct l7_pick_state *ps;
	unsigned users;			/* clients bound to it */
	struct l7_wsnap *next;
};

struct l7_lsock {
	struct l7_conn c;
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct l7_lsock *next;
};

/* A listener change handed from the main thread to a worker. */
struct l7_lcmd {
	int fd;				/* >= 0: start accepting on it; -1: close the one on addr */
	struct sockaddr_storage addr;
	socklen_t addrlen;
	struct l7_lcmd *next;
};

enum l7_gauge { G_CLIENT, G_BACKEND, G_IDLE, G_KINDS };

#define L7_POOL_BUCKETS 256

struct l7_worker {
	struct l7 *l;
	pthread_t th;
	int ep;
	struct l7_conn ev;		/* eventfd: the main thread's wake-up */
	atomic_bool stop;
	_Atomic(struct l7_snap *) next_snap;	/* a reference handed over by l7_apply */
	pthread_mutex_t mu;		/* guards cmds only (control path) */
	struct l7_lcmd *cmds;
	struct l7_wsnap *ws;		/* current first, then older ones still in use */
	struct l7_lsock *ls;
	struct l7_cli clients;		/* list head */
	struct l7_tnode tl[T_KINDS];	/* list heads */
	uint64_t now;			/* ms, monotonic, read once per loop turn */
	struct l7_conn *dead;
	struct l7_bk *pool[L7_POOL_BUCKETS];
	unsigned npool;
	struct l7_cli *free_cli;
	struct l7_bk *free_bk;
	unsigned nfree_cli, nfree_bk;
	atomic_uint_least64_t gauge[G_KINDS];
};

struct l7 {
	unsigned nworkers;
	struct l7_worker *w;
	uint8_t key[L7_SECRET_LEN];
	struct l7_registry *reg;
	struct l7_snap *snap;		/* the last published (the main thread's reference) */
	uint64_t gen;
	size_t nlst;			/* the (address, port) pairs listened on */
	struct l7_lcmd *lst;		/* fd unused: the workers own the sockets */
};

/* timer.c */
void l7_timer_init(struct l7_worker *w);
void l7_timer_arm(struct l7_worker *w, struct l7_tnode *t, enum l7_tkind k);
void l7_timer_stop(struct l7_tnode *t);
int l7_timer_next(const struct l7_worker *w);	/* ms to the earliest, -1: none */
/* Pop the expired ones, calling fire() on each (it may re-arm or close). */
void l7_timer_run(struct l7_worker *w,
		  void (*fire)(struct l7_worker *, struct l7_tnode *, enum l7_tkind));
uint64_t l7_now_us(void);

/* io.c */
void l7_outq_reset(struct l7_outq *q);
void l7_outq_add(struct l7_outq *q, const void *p, size_t len);
static inline bool l7_outq_empty(const struct l7_outq *q)
{
	return q->i == q->n;
}
/* Write what can be written. 0 (all written, or EAGAIN: wr cleared) or -errno. */
int l7_outq_flush(struct l7_outq *q, struct l7_conn *c);
/* Read into b's free space: > 0 bytes, 0 EOF, -EAGAIN (rd cleared) or -errno. */
ssize_t l7_read(struct l7_conn *c, struct l7_buf *b);
int l7_epoll_add(struct l7_worker *w, struct l7_conn *c, uint32_t events);

/* http.c: parsing, in place. */
enum l7_parse { P_MORE, P_HEAD, P_DONE, P_ERR };
void l7_msg_init(struct l7_msg *m, enum http_parser_type t, const char *base, uint32_t at);
/* Parse up to the end of the head (P_HEAD: head_end set) or of the message (P_DONE: pp is its
 * end); P_MORE: all of [pp, w) was consumed. */
enum l7_parse l7_msg_parse(struct l7_msg *m, uint32_t w);
/* The close-delimited body ended (EOF): P_DONE or P_ERR. */
enum l7_parse l7_msg_eof(struct l7_msg *m);
/* A whole request head's checks beyond the parser's: the status to answer, or 0. */
unsigned l7_req_check(const struct l7_msg *m);
unsigned l7_resp_check(const struct l7_msg *m);
/* Whether the response's body lasts until the backend closes. */
bool l7_resp_needs_eof(const struct l7_msg *m);

/* head.c: what the proxy changes in a head. */
/* The ranges to leave out of head m, in order: hop-by-hop lines, for a request the client's
 * X-Forwarded-Proto and, when cookie is set, every pair of that cookie (*val: the first one's
 * value, NULL if none). false: more than L7_DROPS_MAX ranges. */
bool l7_head_drops(const struct l7_msg *m, bool request, const char *cookie, size_t cookie_len,
		   const char **val, size_t *val_len, struct l7_range *drops, uint8_t *ndrops);
/* Queue (after what q holds) head [at, head_end) without drops, then ins, then the final CRLF
 * and the bytes up to end. */
void l7_head_queue(struct l7_outq *q, const struct l7_msg *m, uint32_t at, uint32_t end,
		   const struct l7_range *drops, uint8_t ndrops, const char *ins, size_t ins_len);

/* errors.c */
/* The whole response for status into out (L7_INS_MAX), its length; counts it. */
size_t l7_error_format(struct l7_registry *reg, unsigned status, char *out);

/* proxyproto.c: the PROXY header (version 1 or 2) for a connection from src to dst. */
size_t l7_pp_build(char out[L7_PP_MAX], uint8_t version, const struct sockaddr *src,
		   const struct sockaddr *dst);

/* pool.c */
void l7_pool_put(struct l7_worker *w, struct l7_bk *b);
struct l7_bk *l7_pool_take(struct l7_worker *w, const struct sockaddr *addr, socklen_t len);
void l7_pool_remove(struct l7_worker *w, struct l7_bk *b);

/* backend.c */
/* A connection to s for c: the one c kept, a pooled one, or a new one (NULL: -errno in err). */
struct l7_bk *l7_bk_get(struct l7_cli *c, const struct l7_server *s, int *err);
struct l7_bk *l7_bk_connect(struct l7_cli *c, const struct l7_server *s, int *err);
/* Its client no longer wants b (idle): pooled, or closed when it carries a client's PROXY
 * header. */
void l7_bk_park(struct l7_bk *b);
void l7_bk_close(struct l7_bk *b);
void l7_bk_event(struct l7_bk *b, uint32_t ev);

/* client.c and exchange.c: what a handler tells the run loop: R_AGAIN (something moved),
 * R_STOP (wait for events) or R_FREED (the client is closed: touch nothing). */
enum { R_STOP, R_AGAIN, R_FREED };

static inline const struct l7_farm *l7_cli_farm(const struct l7_cli *c)
{
	return c->ln->fe->farm;
}

/* client.c */
/* Bind c to snapshot ws: false when its (VIP, port) is not in it. */
bool l7_cli_bind(struct l7_cli *c, struct l7_wsnap *ws);
/* The next request starts at at in the buffer. */
void l7_cli_next(struct l7_cli *c, uint32_t at);
/* An error response instead of the exchange; the connection closes after it. */
int l7_cli_fail(struct l7_cli *c, unsigned status);
int l7_cli_abort(struct l7_cli *c);
void l7_cli_accept(struct l7_worker *w, struct l7_lsock *ls, int fd,
		   const struct sockaddr_storage *peer);
void l7_cli_event(struct l7_cli *c, uint32_t ev);
void l7_cli_run(struct l7_cli *c);
void l7_cli_timeout(struct l7_cli *c, enum l7_tkind k);
void l7_cli_close(struct l7_cli *c);
/* The worker adopted a new snapshot: move c to it when it has no exchange in flight. */
void l7_cli_rebind(struct l7_cli *c);

/* exchange.c */
/* The head of c's request is whole: check it, pick a server, send it. */
int l7_xchg_begin(struct l7_cli *c);
int l7_xchg_run(struct l7_cli *c);
/* The exchange's server is done with (counted as answered or not). */
void l7_xchg_release(struct l7_cli *c);

/* worker.c */
int l7_worker_start(struct l7 *l, struct l7_worker *w, char *err, size_t errlen);
void l7_worker_stop(struct l7_worker *w);
void l7_worker_wake(struct l7_worker *w);
void l7_lcmds_free(struct l7_lcmd *c);
/* Closed objects are freed after the current batch of events. */
void l7_conn_dead(struct l7_worker *w, struct l7_conn *c);
void l7_wsnap_unuse(struct l7_worker *w, struct l7_wsnap *ws);

#endif /* LIMPET_L7_ENGINE_H */
