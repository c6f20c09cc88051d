/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * Attaching XDP programs through libxdp, so that limpet shows in `xdp-loader status` and
 * coexists with other XDP programs where libxdp's dispatcher works; where it does not (its
 * freplace attach fails on some kernels), libxdp attaches the program alone.
 */
#ifndef LIMPET_ATTACH_H
#define LIMPET_ATTACH_H

#include <xdp/libxdp.h>

enum attach_req { ATTACH_AUTO, ATTACH_NATIVE, ATTACH_GENERIC };

struct attachment {
	int ifindex;
	enum xdp_attach_mode mode;	/* what was used: XDP_MODE_NATIVE or XDP_MODE_SKB */
	struct xdp_program *prog;
};

/* Parse "native", "generic", "auto"; -EINVAL otherwise. */
int attach_req_parse(const char *s, enum attach_req *out);
const char *attach_mode_name(enum xdp_attach_mode m);

/* Detach programs named `name` left on ifindex by a previous run, but for the program
 * keep_fd (-1: none); returns how many. */
int attach_clear_stale(int ifindex, const char *name, int keep_fd);
/* If the loaded program prog_fd runs on ifindex (a limpetd that left its dataplane running
 * attached it), take a handle on that attachment as attach_prog makes one: 1; 0 if it does
 * not run there; -errno. */
int attach_adopt(int prog_fd, int ifindex, struct attachment *a);
/* Attach the loaded program prog_fd to ifindex; auto tries native, then generic. */
int attach_prog(int prog_fd, int ifindex, enum attach_req req, struct attachment *a);
void attach_release(struct attachment *a);
/* Let go of the handle but leave the program attached (the next limpetd adopts it). */
void attach_forget(struct attachment *a);

#endif /* LIMPET_ATTACH_H */
