// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <string.h>

#include <bpf/bpf.h>

#include "daemon/attach.h"
#include "common/log.h"

int attach_req_parse(const char *s, enum attach_req *out)
{
	static const char *const names[] = { "auto", "native", "generic" };

	for (int i = 0; i < 3; i++) {
		if (!strcmp(s, names[i])) {
			*out = (enum attach_req)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *attach_mode_name(enum xdp_attach_mode m)
{
	return m == XDP_MODE_NATIVE ? "native" : m == XDP_MODE_SKB ? "generic" : "?";
}

/* The kernel's id of the program fd; 0 (no program has it) for fd -1. */
static uint32_t prog_id(int fd)
{
	struct bpf_prog_info info = { 0 };
	uint32_t len = sizeof(info);

	return fd >= 0 && !bpf_obj_get_info_by_fd(fd, &info, &len) ? info.id : 0;
}

static bool stale(struct xdp_program *p, const char *name, uint32_t keep)
{
	return p && !strcmp(xdp_program__name(p), name) && xdp_program__id(p) != keep;
}

int attach_clear_stale(int ifindex, const char *name, int keep_fd)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p = NULL;
	uint32_t keep = prog_id(keep_fd);
	int n = 0;

	if (libxdp_get_error(mp))
		return 0;	/* nothing attached */
	if (xdp_multiprog__is_legacy(mp)) {
		if (stale(xdp_multiprog__main_prog(mp), name, keep) && !xdp_multiprog__detach(mp))
			n++;
	} else {
		while ((p = xdp_multiprog__next_prog(p, mp))) {
			if (stale(p, name, keep) &&
			    !xdp_program__detach(p, ifindex, xdp_multiprog__attach_mode(mp), 0))
				n++;
		}
	}
	xdp_multiprog__close(mp);
	return n;
}

int attach_adopt(int prog_fd, int ifindex, struct attachment *a)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);
	struct xdp_program *p = NULL;
	uint32_t id = prog_id(prog_fd);
	bool found = false;
	int err;

	memset(a, 0, sizeof(*a));
	if (libxdp_get_error(mp))
		return 0;	/* nothing attached */
	if (xdp_multiprog__is_legacy(mp))
		found = xdp_program__id(xdp_multiprog__main_prog(mp)) == id;
	else
		while (!found && (p = xdp_multiprog__next_prog(p, mp)))
			found = xdp_program__id(p) == id;
	if (found)
		a->mode = xdp_multiprog__attach_mode(mp);
	xdp_multiprog__close(mp);
	if (!found)
		return 0;
	a->prog = xdp_program__from_fd(prog_fd);
	err = libxdp_get_error(a->prog);
	if (err) {
		a->prog = NULL;
		return err;
	}
	a->ifindex = ifindex;
	return 1;
}

static void log_dispatcher(int ifindex)
{
	struct xdp_multiprog *mp = xdp_multiprog__get_from_ifindex(ifindex);

	if (libxdp_get_error(mp))
		return;
	if (xdp_multiprog__is_legacy(mp))
		pr_info("libxdp attached the program alone (its multi-program dispatcher is not "
			"usable on this kernel)");
	else
		pr_info("libxdp dispatcher: %d program(s) on this device",
			xdp_multiprog__program_count(mp));
	xdp_multiprog__close(mp);
}

int attach_prog(int prog_fd, int ifindex, enum attach_req req, struct attachment *a)
{
	enum xdp_attach_mode first = req == ATTACH_GENERIC ? XDP_MODE_SKB : XDP_MODE_NATIVE;
	int err;

	memset(a, 0, sizeof(*a));
	a->ifindex = ifindex;
	a->prog = xdp_program__from_fd(prog_fd);
	err = libxdp_get_error(a->prog);
	if (err) {
		a->prog = NULL;
		return err;
	}
	a->mode = first;
	/* libxdp tries its dispatcher first and says why it falls back at warning level; the
	 * outcome is what matters, and we log that */
	log_mute_libs(true);
	err = xdp_program__attach(a->prog, ifindex, first, 0);
	if (err && req == ATTACH_AUTO) {
		pr_info("native XDP attach failed (%s), trying generic", strerror(-err));
		a->mode = XDP_MODE_SKB;
		err = xdp_program__attach(a->prog, ifindex, XDP_MODE_SKB, 0);
	}
	log_mute_libs(false);
	if (err) {
		xdp_program__close(a->prog);
		a->prog = NULL;
		return err;
	}
	log_dispatcher(ifindex);
	return 0;
}

void attach_release(struct attachment *a)
{
	int err;

	if (!a->prog)
		return;
	err = xdp_program__detach(a->prog, a->ifindex, a->mode, 0);
	if (err)
		pr_warn("detach from ifindex %d: %s", a->ifindex, strerror(-err));
	xdp_program__close(a->prog);
	a->prog = NULL;
}

void attach_forget(struct attachment *a)
{
	xdp_program__close(a->prog);
	a->prog = NULL;
}
