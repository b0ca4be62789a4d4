/* SPDX-License-Identifier: Apache-2.0 */
/* modify.c - change an attached program in place (mgr_modify): priority and
 * proceed-on through the chain code (hook_modify), metadata in the record alone.
 *
 * Order of writes (crash consistency, recovery.h): when the kernel changes, a
 * pending-modify marker <rundir>/programs/.modify-<id> holding the NEW record is
 * written and fsynced first; then the hook changes (one atomic swap for XDP/TC,
 * the stand-in move for TCX); then the record is replaced (temp + rename) and the
 * marker removed.  Recovery installs a marker's record when the hook shows its
 * priority and proceed-on, and drops the marker otherwise.  Metadata alone is one
 * atomic record replacement. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bpf/hook.h"
#include "core/base/event.h"
#include "core/base/log.h"
#include "core/state/manager.h"
#include "core/state/mrec.h"
#include "core/state/record.h"
#include "core/state/store.h"

/* Apply the metadata of p to s: set, or remove on an empty value. */
static int apply_metadata(const struct modify_plan *p, struct prog_spec *s,
			  struct errmsg *em)
{
	size_t i, j;

	for (i = 0; i < p->n_metadata; i++) {
		const struct meta_kv *kv = &p->metadata[i];

		if (!kv->key[0])
			return errmsg_set(em, -EINVAL, "a metadata key is empty: give KEY=VALUE "
					  "(KEY= removes KEY)");
		for (j = 0; j < s->n_metadata; j++)
			if (!strcmp(s->metadata[j].key, kv->key))
				break;
		if (!kv->value[0]) {
			if (j < s->n_metadata) {
				s->metadata[j] = s->metadata[s->n_metadata - 1];
				s->n_metadata--;
			}
			continue;
		}
		if (j == s->n_metadata) {
			if (s->n_metadata == PLAN_METADATA_MAX)
				return errmsg_set(em, -EINVAL, "program %u would have more than "
						  "%d metadata keys: remove some (KEY=)", p->id,
						  PLAN_METADATA_MAX);
			s->n_metadata++;
		}
		s->metadata[j] = *kv;
	}
	return 0;
}

/* What a modify asks of a program of kind k, checked; the new attach values go to a. */
static int check_modify(const struct modify_plan *p, const struct mrec *mr,
			struct attach_spec *a, uint32_t *ret_mask, struct errmsg *em)
{
	const char *kind = obj_kind_str(mr->kind);
	int err;

	if (!p->has_priority && !p->n_proceed_on && !p->n_metadata)
		return errmsg_set(em, -EINVAL, "nothing to modify: give a priority, proceed-on "
				  "actions or metadata");
	if ((p->has_priority || p->n_proceed_on) && !mr->chain)
		return errmsg_set(em, -EINVAL, "program %u is a %s program: priority and "
				  "proceed-on apply only to xdp, tc and tcx programs", p->id,
				  kind);
	if (p->n_proceed_on && mr->kind == OBJ_KIND_TCX)
		return errmsg_set(em, -EINVAL, "program %u is a tcx program: TCX has no "
				  "proceed-on (the kernel orders TCX programs; each one's "
				  "verdict decides)", p->id);
	if (p->has_priority && p->priority < 0)
		return errmsg_set(em, -EINVAL, "priority %d is negative: give a priority of 0 "
				  "or more (lower runs first)", p->priority);
	if (p->has_priority)
		a->priority = p->priority;
	if (p->n_proceed_on) {
		memcpy(a->proceed_on, p->proceed_on, p->n_proceed_on * sizeof(a->proceed_on[0]));
		a->n_proceed_on = p->n_proceed_on;
	}
	*ret_mask = 0;
	if (mr->kind == OBJ_KIND_TCX || !mr->chain)
		return 0;
	err = chain_proceed_on_encode(mr->ck, a->proceed_on, a->n_proceed_on, ret_mask, em);
	if (err)
		return err;
	/* record the set as the daemon applies it (duplicates dropped, in order) */
	a->n_proceed_on = chain_proceed_on_decode(mr->ck, *ret_mask, a->proceed_on,
						  PLAN_PROCEED_ON_MAX);
	if (a->n_proceed_on > PLAN_PROCEED_ON_MAX)
		a->n_proceed_on = PLAN_PROCEED_ON_MAX;
	return 0;
}

/* Does the hook need to change, and may it (a direct attachment has no proceed-on)? */
static int need_kernel(struct mgr *m, const struct mrec *mr, const struct modify_plan *p,
		       const struct attach_spec *old, const struct attach_spec *new,
		       uint32_t old_mask, uint32_t new_mask, bool *ret_need,
		       struct errmsg *em)
{
	struct hook_member_info mi;
	const char *why;
	int err;

	*ret_need = false;
	if (!mr->chain || (old->priority == new->priority && old_mask == new_mask))
		return 0;
	err = hook_member(m->chains, mr->ck, mr->ifindex, mr->cdir, mr->id, &mi);
	if (err)
		return errmsg_set(em, err == -ENOENT ? -ENOENT : err, "program %u is no longer "
				  "on its %s hook (ifindex %u): it was removed behind bpfd's "
				  "back; unload it and load it again", mr->id,
				  chain_kind_str(mr->ck), mr->ifindex);
	if (mi.mode == HOOK_MODE_DIRECT) {
		if (p->n_proceed_on) {
			hook_env_multiprog(m->chains, &why);
			return errmsg_set(em, -HOOK_EPRECONDITION, "program %u is attached "
					  "directly, not in a dispatcher chain (%s): proceed-on "
					  "applies only in a chain. Leave out --proceed-on",
					  mr->id, why);
		}
		return 0;	/* alone on its hook: the priority orders nothing */
	}
	*ret_need = true;
	return 0;
}

static int modify_locked(struct mgr *m, const struct modify_plan *p,
			 bpfd_state_ProgramRecord *r, struct prog_view *v, struct errmsg *em)
{
	struct mrec *mr = mrec_find(m, p->id);
	struct attach_spec old;
	struct hook_result hr;
	char marker[32] = "";
	uint32_t old_mask = 0, new_mask = 0;
	uint8_t *pb = NULL;
	size_t len = 0;
	bool kernel = false, changed = false;
	int err;

	if (!mr)
		return mrec_not_found(p->id, em);
	if (!mr->pb)
		return errmsg_set(em, -EINVAL, "the record of program %u is damaged (%s): bpfd "
				  "cannot modify it; unload it and load it again", p->id,
				  mr->damaged);
	err = store_decode(mr->pb, mr->pb_len, r);
	if (err)
		return errmsg_set(em, err, "cannot decode the record of program %u", p->id);
	record_info_from_pb(&r->info, v);
	old = v->spec.attach;
	if (mr->chain && mr->kind != OBJ_KIND_TCX) {
		err = chain_proceed_on_encode(mr->ck, old.proceed_on, old.n_proceed_on,
					      &old_mask, em);
		if (err)
			return err;
	}
	err = check_modify(p, mr, &v->spec.attach, &new_mask, em);
	if (!err)
		err = apply_metadata(p, &v->spec, em);
	if (!err && mr->kind != OBJ_KIND_TCX && mr->chain && !p->n_proceed_on)
		new_mask = old_mask;
	if (!err)
		err = need_kernel(m, mr, p, &old, &v->spec.attach, old_mask, new_mask, &kernel,
				  em);
	if (err)
		return err;
	record_info_to_pb(v, &r->info);
	if (p->entry[0])
		snprintf(r->source_entry, sizeof(r->source_entry), "%s", p->entry);
	if (kernel) {
		snprintf(marker, sizeof(marker), ".modify-%u", p->id);
		err = store_put_named(m->st, marker, r, em);
		if (err) {
			marker[0] = '\0';
			goto out;
		}
		err = hook_modify(m->chains, mr->ck, mr->ifindex, mr->cdir, mr->id,
				  v->spec.attach.priority, new_mask, &hr, em);
		if (err)
			goto out;
		changed = true;
		mrec_test_pause("BPFD_TEST_PAUSE_MODIFY", p->id, "changed on its hook");
	}
	err = store_encode(r, &pb, &len);
	if (err) {
		errmsg_set(em, err, "cannot encode the record of program %u", p->id);
		goto out;
	}
	err = store_put(m->st, r, em);
	if (err)
		goto out;
	free(mr->pb);
	mr->pb = pb;
	mr->pb_len = len;
	pb = NULL;
	changed = false;
	log_info("modified program %u%s", p->id, kernel ? " (hook updated)" : "");
	if (kernel)
		event_emitf(EVENT_MODIFY, p->id, mr->attach,
			    "modified program %u: priority %d -> %d, proceed-on 0x%x -> 0x%x",
			    p->id, old.priority, v->spec.attach.priority, old_mask, new_mask);
	else
		event_emitf(EVENT_MODIFY, p->id, mr->attach,
			    "modified program %u: metadata", p->id);
	/* the members' new order: a chain_reordered event when it changed */
	if (kernel && mr->chain)
		follow_hook(m, mr->ck, mr->ifindex, mr->cdir, 0);
out:
	if (changed && hook_modify(m->chains, mr->ck, mr->ifindex, mr->cdir, mr->id,
				   old.priority, old_mask, &hr, NULL))
		log_err("program %u: the record could not be written and the hook could not "
			"be put back; the next start of bpfd reconciles them", p->id);
	else if (marker[0])
		(void)store_remove_name(m->st, marker);
	free(pb);
	return err;
}

int mgr_modify(struct mgr *m, const struct modify_plan *plan, struct prog_view *ret,
	       struct errmsg *em)
{
	bpfd_state_ProgramRecord *r;
	struct prog_view *v;
	int err;

	pthread_mutex_lock(&m->lock);
	err = mgr_change_bufs(m, &r, &v);
	if (!err)
		err = modify_locked(m, plan, r, v, em);
	pthread_mutex_unlock(&m->lock);
	if (!err && ret)
		err = mgr_prog_view(m, plan->id, ret);
	return err;
}
