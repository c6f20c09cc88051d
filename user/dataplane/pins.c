// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The dataplane in bpffs: pinning it, and adopting what an earlier limpetd left pinned (its
 * maps, its program, and from the farms map the books that give every server its key and
 * counter), so that a restarted limpetd moves no client.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "dataplane/dataplane-int.h"

#define PROG_NAME	"limpet_balancer"	/* the program's name, and its pin's */
#define WHY_MAX		256

int dataplane_pin(struct dataplane *dp, const char *dir)
{
	char path[PATH_MAX];
	int err;

	err = bpf_object__pin_maps(dp->skel->obj, dir);
	if (err)
		return err;
	snprintf(path, sizeof(path), "%s/" PROG_NAME, dir);
	err = bpf_program__pin(dp->skel->progs.limpet_balancer, path);
	if (err)
		bpf_object__unpin_maps(dp->skel->obj, dir);
	return err;
}

static int not_dot(const struct dirent *e)
{
	return strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
}

/* By directory entry, not by the maps this build knows: a dataplane of another version may
 * have pinned others. Names are listed first: unlinking while reading a directory may skip
 * entries. */
int dataplane_unpin(const char *dir)
{
	struct dirent **names;
	char path[PATH_MAX];
	int n = scandir(dir, &names, not_dot, NULL);

	if (n < 0)
		return errno == ENOENT ? 0 : -errno;
	for (int i = 0; i < n; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		unlink(path);
		free(names[i]);
	}
	free(names);
	return rmdir(dir) ? -errno : 0;
}

int dataplane_meta_init(struct dataplane *dp)
{
	struct lb_meta m = {
		.abi_version = LB_ABI_VERSION,
		.sticky_buckets = bpf_map__max_entries(dp->skel->maps.sticky),
		.conn_max = bpf_map__max_entries(dp->skel->maps.conns),
		.insert_rate = dp->skel->rodata->insert_rate,
	};
	uint32_t zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(dp->skel->maps.meta), &zero, &m, BPF_ANY))
		return -errno;
	return 0;
}

bool dataplane_pinned(const char *dir)
{
	struct dirent **names;
	int n = scandir(dir, &names, not_dot, NULL);

	for (int i = 0; i < n; i++)
		free(names[i]);
	if (n >= 0)
		free(names);
	return n > 0;
}

/* The meta record pinned under dir: 0; -ENODATA if there is none (a limpet older than the
 * record pinned the rest); -errno. Of another ABI version's, only abi_version is meaningful. */
static int pinned_meta(const char *dir, struct lb_meta *meta)
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info), zero = 0;
	char path[PATH_MAX];
	void *val = NULL;
	int fd, err;

	snprintf(path, sizeof(path), "%s/meta", dir);
	fd = bpf_obj_get(path);
	if (fd < 0)
		return errno == ENOENT ? -ENODATA : -errno;
	err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	/* another version's value may be longer or shorter: its first word is the version */
	if (!err && (info.type != BPF_MAP_TYPE_ARRAY || info.key_size != sizeof(zero) ||
		     info.value_size < sizeof(meta->abi_version)))
		err = -ENODATA;
	if (!err) {
		val = calloc(1, info.value_size > sizeof(*meta) ? info.value_size : sizeof(*meta));
		err = val ? 0 : -ENOMEM;
	}
	if (!err && bpf_map_lookup_elem(fd, &zero, val))
		err = -errno;
	if (!err)
		memcpy(meta, val, sizeof(*meta));
	free(val);
	close(fd);
	return err;
}

/* The pinned map's type, sizes and flags against this build's (those of m): 0 or -EPROTO. */
static int map_check(const struct bpf_map *m, int fd, char why[WHY_MAX])
{
	struct bpf_map_info info = { 0 };
	uint32_t len = sizeof(info);

	if (bpf_obj_get_info_by_fd(fd, &info, &len)) {
		snprintf(why, WHY_MAX, "map %s: %s", bpf_map__name(m), strerror(errno));
		return -EPROTO;
	}
	/* the kernel adds it to every devmap it creates */
	if (info.type == BPF_MAP_TYPE_DEVMAP_HASH)
		info.map_flags &= ~BPF_F_RDONLY_PROG;
	if (info.type == bpf_map__type(m) && info.key_size == bpf_map__key_size(m) &&
	    info.value_size == bpf_map__value_size(m) &&
	    info.max_entries == bpf_map__max_entries(m) && info.map_flags == bpf_map__map_flags(m))
		return 0;
	snprintf(why, WHY_MAX, "map %s is type %u, key %u, value %u bytes, %u entries, flags %#x; "
		 "this limpetd's: %u, %u, %u, %u, %#x", bpf_map__name(m), info.type, info.key_size,
		 info.value_size, info.max_entries, info.map_flags, bpf_map__type(m),
		 bpf_map__key_size(m), bpf_map__value_size(m), bpf_map__max_entries(m),
		 bpf_map__map_flags(m));
	return -EPROTO;
}

/*
 * Have libbpf reuse the pin of every map but the internal ones (.rodata, .kconfig: the pinned
 * program's are frozen in it; ours serve limpet_clock). libbpf checks a pin's type, sizes and
 * flags before it reuses it; map_check does it first, to name the map that differs.
 */
static int maps_reuse(struct dataplane *dp, const char *dir, char why[WHY_MAX])
{
	char path[PATH_MAX];
	struct bpf_map *m;
	int fd, err;

	bpf_object__for_each_map(m, dp->skel->obj) {
		if (bpf_map__is_internal(m))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(m));
		fd = bpf_obj_get(path);
		if (fd < 0) {
			err = -errno;
			snprintf(why, WHY_MAX, "map %s: %s", bpf_map__name(m), strerror(-err));
			return err;
		}
		err = map_check(m, fd, why);
		/* libbpf 1.1 takes the flag the kernel adds to devmaps for a mismatch: the devmap
		 * is handed over by fd, on map_check's word alone */
		if (!err && bpf_map__type(m) == BPF_MAP_TYPE_DEVMAP_HASH)
			err = bpf_map__reuse_fd(m, fd);
		else if (!err)
			err = bpf_map__set_pin_path(m, path);
		close(fd);
		if (err) {
			if (err != -EPROTO)
				snprintf(why, WHY_MAX, "map %s: %s", bpf_map__name(m),
					 strerror(-err));
			return err;
		}
	}
	return 0;
}

/* The pinned balancer: an XDP program of ours that works on the maps just adopted. */
static int prog_adopt(struct dataplane *dp, const char *dir, char why[WHY_MAX])
{
	uint32_t ids[64], len = sizeof(struct bpf_map_info), n;
	struct bpf_map_info vips = { 0 };
	struct bpf_prog_info info = { 0 };
	char path[PATH_MAX];
	int err;

	snprintf(path, sizeof(path), "%s/" PROG_NAME, dir);
	dp->prog_fd = bpf_obj_get(path);
	err = dp->prog_fd < 0 ? -errno : 0;
	if (!err && bpf_obj_get_info_by_fd(bpf_map__fd(dp->skel->maps.vips), &vips, &len))
		err = -errno;
	info.nr_map_ids = sizeof(ids) / sizeof(ids[0]);
	info.map_ids = (uintptr_t)ids;
	len = sizeof(info);
	if (!err && bpf_obj_get_info_by_fd(dp->prog_fd, &info, &len))
		err = -errno;
	if (err) {
		snprintf(why, WHY_MAX, "program " PROG_NAME ": %s", strerror(-err));
		return err;
	}
	if (info.type != BPF_PROG_TYPE_XDP || strcmp(info.name, PROG_NAME)) {
		snprintf(why, WHY_MAX, "the pinned " PROG_NAME " is not a limpet balancer "
			 "(program \"%s\", type %u)", info.name, info.type);
		return -EPROTO;
	}
	n = info.nr_map_ids < sizeof(ids) / sizeof(ids[0]) ? info.nr_map_ids
							    : sizeof(ids) / sizeof(ids[0]);
	for (uint32_t i = 0; i < n; i++)
		if (ids[i] == vips.id)
			return 0;
	snprintf(why, WHY_MAX, "the pinned " PROG_NAME " does not use the maps pinned beside it");
	return -EPROTO;
}

/* The book of the farm in slot, from the value the map holds: 1, 0 if the slot is empty,
 * or -errno. val: scratch. */
static int book_rebuild(struct dataplane *dp, uint32_t slot, struct lb_farm *val,
			char why[WHY_MAX])
{
	struct bpf_map_info info = { 0 };
	uint32_t inner, zero = 0, len = sizeof(info);
	struct farm_book *b;
	int fd, err;

	/* from user space, an array of maps answers with the inner map's id */
	if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.farms), &slot, &inner))
		return errno == ENOENT ? 0 : -errno;
	fd = bpf_map_get_fd_by_id(inner);
	if (fd < 0)
		return -errno;
	err = bpf_obj_get_info_by_fd(fd, &info, &len) ? -errno : 0;
	if (!err && info.value_size != sizeof(*val)) {
		snprintf(why, WHY_MAX, "the farm in slot %u is %u bytes, this limpetd's are %zu",
			 slot, info.value_size, sizeof(*val));
		err = -EPROTO;
	}
	if (!err && bpf_map_lookup_elem(fd, &zero, val))
		err = -errno;
	close(fd);
	if (err)
		return err;
	if (val->hdr.nservers > LB_FARM_SERVERS_MAX) {
		snprintf(why, WHY_MAX, "the farm in slot %u has %u servers", slot,
			 val->hdr.nservers);
		return -EPROTO;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->nslots = val->hdr.nservers;
	book_note_value(b, val);
	for (uint32_t s = 0; s < b->nslots; s++) {
		const struct lb_server *ls = &val->servers[s];

		if (!ls->key)
			continue;
		if (ls->stat >= LB_SERVER_STATS_MAX) {
			snprintf(why, WHY_MAX, "farm slot %u, server %u: counter slot %u", slot,
				 ls->id, ls->stat);
			free(b);
			return -EPROTO;
		}
		b->id[s] = ls->id;
		b->key[s] = ls->key;
		b->stat[s] = ls->stat;
		dp->stat_used[ls->stat] = 1;
	}
	dp->farms[slot] = b;
	return 1;
}

int dataplane_adopt(struct dataplane **dpp, const char *dir, char why[WHY_MAX])
{
	struct lb_farm *val = NULL;
	struct dataplane *dp;
	struct lb_meta meta;
	int err, nfarms = 0;

	snprintf(why, WHY_MAX, "%s", "");
	err = pinned_meta(dir, &meta);
	if (err == -ENODATA) {
		snprintf(why, WHY_MAX, "it has no ABI record (a limpet older than LB_ABI_VERSION "
			 "pinned it), this limpetd has ABI version %u", LB_ABI_VERSION);
		err = -EPROTO;
	} else if (!err && meta.abi_version != LB_ABI_VERSION) {
		snprintf(why, WHY_MAX, "its ABI version is %u, this limpetd's is %u",
			 meta.abi_version, LB_ABI_VERSION);
		err = -EPROTO;
	} else if (err) {
		snprintf(why, WHY_MAX, "its meta record: %s", strerror(-err));
	}
	if (err)
		return err;
	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	dp->prog_fd = -1;
	dp->adopted = true;
	dp->ncpus = libbpf_num_possible_cpus();
	dp->skel = balancer__open();
	if (!dp->skel) {
		err = -errno;
		goto fail;
	}
	/* the pinned program keeps running as it was loaded: a second copy is not loaded */
	bpf_program__set_autoload(dp->skel->progs.limpet_balancer, false);
	/* the pinned table keeps its size, whatever this limpetd was asked for */
	err = dataplane_sticky_size(dp, meta.sticky_buckets);
	err = err ?: bpf_map__set_max_entries(dp->skel->maps.conns, meta.conn_max);
	err = err ?: maps_reuse(dp, dir, why);
	if (!err) {
		err = balancer__load(dp->skel);
		if (err && !why[0])
			snprintf(why, WHY_MAX, "reusing the pinned maps: %s", strerror(-err));
	}
	err = err ?: prog_adopt(dp, dir, why);
	err = err ?: vip_addrs_load(dp);
	val = err ? NULL : malloc(sizeof(*val));
	if (!err && !val)
		err = -ENOMEM;
	for (uint32_t slot = 0; slot < LB_FARMS_MAX && !err; slot++) {
		err = book_rebuild(dp, slot, val, why);
		nfarms += err > 0;
		err = err > 0 ? 0 : err;
	}
	free(val);
	if (err)
		goto fail;
	*dpp = dp;
	return nfarms;
fail:
	if (!why[0])
		snprintf(why, WHY_MAX, "%s", strerror(-err));
	dataplane_close(dp);
	return err;
}

int dataplane_owners_save(struct dataplane *dp, const struct lb_owners *o)
{
	uint32_t zero = 0;

	if (bpf_map_update_elem(bpf_map__fd(dp->skel->maps.owners), &zero, o, BPF_ANY))
		return -errno;
	return 0;
}

int dataplane_owners_load(const struct dataplane *dp, struct lb_owners *o)
{
	uint32_t zero = 0;

	if (bpf_map_lookup_elem(bpf_map__fd(dp->skel->maps.owners), &zero, o))
		return -errno;
	return 0;
}

bool dataplane_has_farm(const struct dataplane *dp, uint32_t slot)
{
	return slot < LB_FARMS_MAX && dp->farms[slot];
}
