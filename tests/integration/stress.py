#!/usr/bin/python3
"""stress.py - the crash and load harness of t_crash.sh and t_load.sh (issue 14).

crash: N random load/unload/modify operations of mixed kinds; before some of them the
daemon is killed with SIGKILL at a random moment (between operations, while an operation
is in flight, mid-load: BPFD_TEST_PAUSE_LOAD holds it between the kernel load and the
record write, or mid-modify: BPFD_TEST_PAUSE_MODIFY holds it between the hook change and
the record) and started again.  After every restart the records, bpfctl list/get, the
pins under the run dir's bpffs and the kernel (programs, attachments on the test's
interfaces) agree exactly, every program ever seen that bpfd does not hold is gone from
the kernel, and every program bpfd holds still runs (its counter grows).  A model of
what the harness asked checks the outcome of each operation: a completed load stays,
a completed unload is gone, a completed modify shows its priority, proceed-on and
metadata; an operation interrupted by a kill left either the old or the new state (a
modify killed after its hook change: the new one, completed at start); a modify the
daemon must refuse (priority of a tracepoint, proceed-on of a program attached
directly) fails and changes nothing.

load: C concurrent clients x N mixed operations (load/unload on shared interfaces,
modify, list, get) with no error while an events reader (bpfctl events) follows the
stream; after every step of every client the order invariant holds (positions follow
priorities on every interface); every completed load, unload and modify appears on the
events stream, whose sequence numbers have no gap; 1,000 idle connections are held open
meanwhile; the daemon's fd count and RSS are sampled before and after.

A seed is printed at start: STRESS_SEED=N replays a run.
"""
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time

BPFD = os.environ["BPFD"]
OBJ = os.path.join(os.environ["BPFD_TESTBPF"], "prog_counter.bpf.o")
TMP = os.environ["T_TMP"]
RUN = os.path.join(TMP, "run")
SOCK = os.path.join(RUN, "bpfd.sock")
TRIG = os.environ["TRIG"]
IFACES = os.environ.get("IFACES", "").split()
CHAINS = os.environ.get("CHAINS", "0") == "1"	# XDP/TC dispatcher chains (freplace)
KINDS = os.environ.get("KINDS", "tracepoint uprobe").split()


class Fail(Exception):
	pass


def log(*a):
	print(" ", *a, flush=True)


def result(*a):
	"""A figure of the run: lib.sh shows these lines under the test's PASS too."""
	print("  result:", *a, flush=True)


def ctl(*args, timeout=300):
	env = dict(os.environ, BPFD_ENDPOINT="unix://" + SOCK)
	p = subprocess.run([BPFD, "bpfctl"] + list(args), env=env, capture_output=True,
			   text=True, timeout=timeout)
	return p.returncode, p.stdout + p.stderr


def ctl_json(*args):
	args = list(args)
	args[1:1] = ["-o", "json"]
	rc, out = ctl(*args)
	if rc != 0:
		raise Fail("bpfctl %s: %s" % (" ".join(args), out))
	return json.loads(out)


def run(*cmd):
	return subprocess.run(list(cmd), capture_output=True, text=True)


DAEMONS = []


class Daemon:
	def __init__(self, extra=()):
		DAEMONS.append(self)
		self.proc = None
		self.extra = list(extra)
		self.logf = os.path.join(TMP, "daemon.log")

	def start(self, pause=None, what="LOAD"):
		"""pause: BPFD_TEST_PAUSE_<what> (LOAD or MODIFY) for that many seconds."""
		env = dict(os.environ)
		env.pop("BPFD_TEST_PAUSE_LOAD", None)
		env.pop("BPFD_TEST_PAUSE_MODIFY", None)
		if pause:
			env["BPFD_TEST_PAUSE_" + what] = str(pause)
		try:
			os.unlink(SOCK)
		except FileNotFoundError:
			pass
		self.logpos = os.path.getsize(self.logf) if os.path.exists(self.logf) else 0
		lf = open(self.logf, "a")
		self.proc = subprocess.Popen([BPFD, "--rundir", RUN] + self.extra, env=env,
					     stdout=lf, stderr=lf)
		lf.close()
		t = time.time()
		while not os.path.exists(SOCK):
			if self.proc.poll() is not None or time.time() - t > 20:
				raise Fail("daemon did not start: " + self.tail())
			time.sleep(0.02)

	def tail(self, n=2000):
		with open(self.logf) as f:
			return f.read()[-n:]

	def new_log(self):
		with open(self.logf) as f:
			f.seek(self.logpos)
			return f.read()

	def kill(self):
		self.proc.send_signal(signal.SIGKILL)
		self.proc.wait()

	def stop(self):
		if self.proc and self.proc.poll() is None:
			self.proc.send_signal(signal.SIGTERM)
			self.proc.wait()

	def alive(self):
		return self.proc.poll() is None

	def fds(self):
		return len(os.listdir("/proc/%d/fd" % self.proc.pid))

	def rss_kb(self):
		with open("/proc/%d/status" % self.proc.pid) as f:
			for l in f:
				if l.startswith("VmRSS:"):
					return int(l.split()[1])


def load_args(kind, iface=None, prio=None, json=False):
	a = ["load-from-file"] + (["-o", "json"] if json else []) + ["-p", OBJ]
	if kind == "tracepoint":
		return a + ["-n", "tp_count", "tracepoint", "-t", "syscalls/sys_enter_getppid"]
	if kind == "uprobe":
		return a + ["-n", "up_count", "uprobe", "-t", TRIG, "-f", "bpfd_test_func"]
	if kind == "tcx":
		return a + ["-n", "tcx_count", "tcx", "-i", iface, "-d", "ingress", "-p", str(prio)]
	if kind == "xdp":
		return a + ["-n", "xdp_count", "xdp", "-i", iface, "-p", str(prio)]
	if kind == "tc":
		a = a + ["-n", "tc_count", "tc", "-i", iface, "-d", "ingress", "-p", str(prio)]
		if CHAINS:
			a += ["--proceed-on", "ok,pipe,dispatcher_return"]
		return a
	raise ValueError(kind)


def attach_of(p):
	"""(kind, iface, priority, position) of a bpfctl list/get entry (bpfd's kind:
	tc and tcx are both sched_cls to the kernel)."""
	kind = bkind(p)
	att = p["info"].get("attach") or {}
	for v in att.values():
		if isinstance(v, dict):
			return kind, v.get("iface"), v.get("priority"), v.get("position")
	return kind, None, None, None


def bkind(p):
	"""bpfd's kind of a list/get entry: xdp, tc, tcx, tracepoint, uprobe, ..."""
	for k in (p["info"].get("attach") or {}):
		return k.replace("_attach_info", "")
	return None


def variant(p):
	"""What a modify changes: (priority, proceed-on, metadata) of a list/get entry."""
	att = next((v for v in (p["info"].get("attach") or {}).values()
		    if isinstance(v, dict)), {})
	return (att.get("priority"), tuple(att.get("proceed_on") or ()),
		tuple(sorted((p["info"].get("metadata") or {}).items())))


# proceed-on actions by name and code; the counter programs return pass (XDP) and ok
# (TC), so every set a test asks for holds it: the members after one must still run
XDP_ACTIONS = {"aborted": 0, "drop": 1, "tx": 3, "redirect": 4, "dispatcher_return": 31}
TC_ACTIONS = {"unspec": -1, "reclassify": 1, "shot": 2, "pipe": 3, "stolen": 4,
	      "queued": 5, "repeat": 6, "redirect": 7, "trap": 8, "dispatcher_return": 30}
META_KEYS = ("owner", "tier", "rev")


def modify_args(rnd, p, json=False):
	"""A random modify of program p: ([bpfctl args], the variant it leads to, or None
	when the daemon must refuse it)."""
	pid = p["kernel_info"]["id"]
	kind = bkind(p)
	prio, po, meta = variant(p)
	meta = dict(meta)
	a = ["modify"] + (["-o", "json"] if json else []) + [str(pid)]
	nbase = len(a)
	if rnd.random() < 0.1:
		# refused: a priority where nothing is ordered, proceed-on of a program
		# attached directly (or of TCX)
		if kind in ("tracepoint", "uprobe"):
			return a + ["-p", str(rnd.randint(1, 1000))], None
		if kind == "tcx" or p["info"].get("attach_mode") == "direct":
			# bpfctl names TC actions only for a TC program: pass reaches
			# the daemon for TCX too
			return a + ["--proceed-on", "ok" if kind == "tc" else "pass"], None
	r = rnd.random()
	if kind in ("xdp", "tc", "tcx") and r < 0.6:
		prio = rnd.randint(1, 1000)
		a += ["-p", str(prio)]
	if kind in ("xdp", "tc") and CHAINS and p["info"].get("attach_mode") != "direct" and \
			rnd.random() < 0.4:
		base, acts = ("pass", XDP_ACTIONS) if kind == "xdp" else ("ok", TC_ACTIONS)
		names = [base] + rnd.sample(sorted(acts), rnd.randint(0, 2))
		a += ["--proceed-on", ",".join(names)]
		codes = sorted({2 if kind == "xdp" else 0} | {acts[n] for n in names[1:]})
		# the daemon keeps them in bit order: dispatcher_return last
		dr = acts["dispatcher_return"]
		po = tuple([c for c in codes if c != dr] + [dr] * (dr in codes))
	if len(a) == nbase or rnd.random() < 0.5:
		k = rnd.choice(META_KEYS)
		if k in meta and rnd.random() < 0.4:
			del meta[k]
			a += ["-m", k + "="]
		else:
			meta[k] = "v%d" % rnd.randint(0, 99)
			a += ["-m", "%s=%s" % (k, meta[k])]
	return a, (prio, po, tuple(sorted(meta.items())))


def check_order(progs, where):
	"""Positions on every (kind, iface, direction) are 0..n-1 and follow priorities."""
	hooks = {}
	for p in progs:
		kind, iface, prio, pos = attach_of(p)
		if iface is None or pos is None:
			continue
		att = list(p["info"]["attach"].values())[0]
		key = (kind, iface, att.get("direction"))
		hooks.setdefault(key, []).append((pos, prio, p["kernel_info"]["id"]))
	for key, l in hooks.items():
		l.sort()
		if [x[0] for x in l] != list(range(len(l))):
			raise Fail("%s: positions on %s are %s" % (where, key, l))
		prios = [x[1] for x in l]
		if prios != sorted(prios):
			raise Fail("%s: priorities on %s out of order: %s" % (where, key, l))


# ---------------------------------------------------------------- crash mode

def pinned_id(path):
	out = run("bpftool", "-j", "prog", "show", "pinned", path).stdout
	try:
		return json.loads(out)["id"]
	except (ValueError, KeyError, TypeError):
		return None


def bpffs_ids():
	"""Program ids bpfd's pins under run/fs hold (prog_ID, maps/ID, TCX links, the
	members of dispatchers); pins that hold none of them or are out of place."""
	fs = os.path.join(RUN, "fs")
	ids, other = set(), []
	for name in os.listdir(fs):
		path = os.path.join(fs, name)
		if name in ("maps.debug", "progs.debug"):
			continue
		if name == "maps":
			ids |= {int(n) for n in os.listdir(path)}
		elif name.startswith("prog_"):
			ids.add(int(name[5:].split("_")[0]))
		elif name in ("tcx-ingress", "tcx-egress"):
			for n in os.listdir(path):
				if n.startswith("link-"):
					ids.add(int(n.rsplit("-", 1)[1]))
				elif not n.startswith("."):
					other.append(os.path.join(name, n))
		elif name in ("tc-ingress", "tc-egress", "xdp"):
			per_if = {}
			for n in os.listdir(path):
				if not n.startswith("dispatch-"):
					if not n.startswith("."):
						other.append(os.path.join(name, n))
					continue
				ifindex = n.split("-")[1]
				per_if[ifindex] = per_if.get(ifindex, 0) + 1
				for m in os.listdir(os.path.join(path, n)):
					if m.endswith("-prog"):
						i = pinned_id(os.path.join(path, n, m))
						if i is None:
							other.append(os.path.join(name, n, m))
						else:
							ids.add(i)
			other += ["%s: %d dispatchers on ifindex %s" % (name, c, i)
				  for i, c in per_if.items() if c > 1]
		else:
			other.append(name)
	return ids, other


def records():
	d = os.path.join(RUN, "programs")
	return {int(n) for n in os.listdir(d) if n.isdigit()}, \
		[n for n in os.listdir(d) if not n.isdigit() and n != "damaged"]


def kernel_progs():
	out = run("bpftool", "-j", "prog", "show").stdout
	return {p["id"]: p for p in json.loads(out or "[]")}


def net_attached():
	"""{iface: set of program ids the kernel runs there}: XDP and TC from bpftool net
	show; TCX links as {prog id: link type} (bpftool 7.1 names no interface for
	them: the counters prove where they run)."""
	r = {}
	for i in IFACES:
		out = run("bpftool", "-j", "net", "show", "dev", i).stdout
		ids = set()
		for sect in json.loads(out or "[]"):
			for k in ("xdp", "tc", "tcx"):
				for e in sect.get(k, []):
					if "id" in e:
						ids.add(e["id"])
					elif "prog_id" in e:
						ids.add(e["prog_id"])
		r[i] = ids
	return r


def kernel_links():
	out = run("bpftool", "-j", "link", "show").stdout
	return {l["prog_id"] for l in json.loads(out or "[]") if "prog_id" in l}


def counters(ids):
	batch = os.path.join(TMP, "batch")
	with open(batch, "w") as f:
		for i in ids:
			f.write("map lookup pinned %s/fs/maps/%d/counter key 0 0 0 0\n" % (RUN, i))
	out = run("bpftool", "-j", "batch", "file", batch).stdout
	vals = []
	try:
		for e in json.loads(out):
			o = e["output"]
			o = o.get("formatted", o)
			v = o["value"]
			if isinstance(v, list):
				v = int("".join(reversed([b[2:] for b in v])), 16)
			vals.append(int(v))
	except (ValueError, KeyError, TypeError):
		raise Fail("bpftool batch: %s" % out)
	if len(vals) != len(ids):
		raise Fail("bpftool batch: %s" % out)
	return vals


def frames():
	ps = [subprocess.Popen(["ip", "netns", "exec", i + "ns", "ping", "-c", "3", "-i",
				"0.2", "-W", "0.2", "10.99.0.1"], stdout=subprocess.DEVNULL,
			       stderr=subprocess.DEVNULL) for i in IFACES]
	for p in ps:
		p.wait()


def check_runs(ids, where):
	ids = sorted(ids)
	if not ids:
		return
	c0 = counters(ids)
	run(TRIG, "getppid", "20")
	run(TRIG, "func", "20")
	frames()
	c1 = counters(ids)
	dead = [(i, a, b) for i, a, b in zip(ids, c0, c1) if b <= a]
	if dead:
		raise Fail("%s: programs that did not run (id, before, after): %s" % (where, dead))


def check_agree(seen, where):
	"""Records == list == get == pins; the kernel holds exactly those of the seen ones."""
	rec, junk = records()
	if junk:
		raise Fail("%s: files left in programs/: %s" % (where, junk))
	listed = ctl_json("list")
	ids = {p["kernel_info"]["id"] for p in listed}
	if ids != rec:
		raise Fail("%s: records %s but list %s" % (where, sorted(rec), sorted(ids)))
	damaged = [p["kernel_info"]["id"] for p in listed if p["info"].get("record_damaged")]
	if damaged:
		raise Fail("%s: records damaged: %s" % (where, damaged))
	for p in listed:
		g = ctl_json("get", str(p["kernel_info"]["id"]))
		if g["info"] != p["info"]:
			raise Fail("%s: get %d differs from list" % (where, p["kernel_info"]["id"]))
	check_order(listed, where)
	pins, other = bpffs_ids()
	if pins != rec:
		raise Fail("%s: pins name %s, records %s" % (where, sorted(pins), sorted(rec)))
	if other:
		raise Fail("%s: pins that name no program: %s" % (where, other))
	for i in seen:
		seen[i] = ""
	t = time.time()
	while True:
		kp = kernel_progs()
		missing = rec - set(kp)
		if missing:
			raise Fail("%s: recorded programs not in the kernel: %s" % (where, missing))
		stale = {i for i in seen if i not in rec and i in kp}
		if not stale:
			break
		if time.time() - t > 10:
			raise Fail("%s: programs bpfd does not hold still in the kernel: %s" %
				   (where, {i: kp[i].get("name") for i in stale}))
		time.sleep(0.1)
	att = net_attached()
	links = kernel_links()
	for p in listed:
		kind, iface, prio, pos = attach_of(p)
		pid = p["kernel_info"]["id"]
		mode = p["info"].get("attach_mode")
		if (mode == "link" or kind == "tcx") and pid not in links:
			raise Fail("%s: program %d (%s) has no link in the kernel" % (where, pid, kind))
		if mode == "direct" and pid not in att.get(iface, set()):
			raise Fail("%s: program %d (%s) not attached to %s: kernel has %s" %
				   (where, pid, kind, iface, att.get(iface)))
	if not CHAINS:
		for iface, a in att.items():
			extra = a - rec
			if extra:
				raise Fail("%s: %s runs programs bpfd does not hold: %s" % (where, iface, extra))
	check_runs(rec, where)
	return listed


def fmt_variant(v):
	prio, po, meta = v
	return "priority %s proceed-on %s metadata {%s}" % (
		prio, list(po), ",".join("%s=%s" % kv for kv in meta))


class Model:
	"""What the harness asked of the daemon.  held: the programs that must be listed,
	each with the variants it may show (two after an interrupted modify: the old and the
	new); maybe: programs an interrupted unload may have taken; new_load: the name of a
	program an interrupted load may have left (its id never reached the client)."""

	def __init__(self):
		self.held = {}
		self.maybe = {}
		self.new_load = None

	def check(self, listed, where):
		got = {p["kernel_info"]["id"]: p for p in listed}
		for i, vs in list(self.held.items()) + list(self.maybe.items()):
			if i not in got:
				if i in self.held:
					raise Fail("%s: program %d, loaded and not unloaded, is gone" %
						   (where, i))
				continue
			if variant(got[i]) not in vs:
				raise Fail("%s: program %d shows %s; the harness asked for %s" %
					   (where, i, fmt_variant(variant(got[i])),
					    " or ".join(fmt_variant(v) for v in vs)))
		extra = [i for i in got if i not in self.held and i not in self.maybe]
		if extra and not (self.new_load and len(extra) == 1 and
				  got[extra[0]]["info"]["name"] == self.new_load):
			raise Fail("%s: listed programs the harness did not load: %s" % (where, extra))
		self.held = {i: {variant(p)} for i, p in got.items()}
		self.maybe = {}
		self.new_load = None


def modify_changes_hook(p, want):
	"""Does modify to variant want change the hook (so BPFD_TEST_PAUSE_MODIFY holds it)?"""
	if not want or bkind(p) not in ("xdp", "tc", "tcx") or \
			p["info"].get("attach_mode") == "direct":
		return False
	old = variant(p)
	return old[0] != want[0] or old[1] != want[1]


def crash_mode(rnd, nops):
	d = Daemon()
	d.start()
	seen = {}	# every program id the harness saw
	model = Model()
	kills = {"idle": 0, "inflight": 0, "midload": 0, "midmodify": 0}
	done = {"load": 0, "unload": 0, "modify": 0, "refused": 0}

	def pick_load():
		kind = rnd.choice(KINDS)
		iface = prio = None
		if kind in ("xdp", "tc", "tcx"):
			iface = rnd.choice(IFACES)
			prio = rnd.randint(1, 1000)
		return kind, iface, prio

	def hook_full(listed, kind, iface):
		n = sum(1 for p in listed if attach_of(p)[:2] == (kind, iface))
		if kind in ("xdp", "tc") and not CHAINS:
			return n >= 1
		return n >= (10 if kind in ("xdp", "tc") else 64)

	def bpfctl_bg(args):
		env = dict(os.environ, BPFD_ENDPOINT="unix://" + SOCK)
		return subprocess.Popen([BPFD, "bpfctl"] + args, env=env,
					stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

	def wait_pause(var, where):
		t = time.time()
		while True:
			for l in d.new_log().splitlines():
				if var + ": program " in l:
					return int(l.split(var + ": program ")[1].split()[0])
			if time.time() - t > 30:
				raise Fail(where + ": the operation did not reach " + var)
			time.sleep(0.05)

	listed = check_agree(seen, "start")
	model.check(listed, "start")
	for op in range(nops):
		held = {p["kernel_info"]["id"]: p for p in listed}
		r = rnd.random()
		target = want = None
		if held and (r < 0.3 or len(held) >= 24):
			target = rnd.choice(sorted(held))
			what, args = "unload", ["unload", str(target)]
		elif held and r < 0.55:
			target = rnd.choice(sorted(held))
			what = "modify"
			args, want = modify_args(rnd, held[target], json=True)
		else:
			kind, iface, prio = pick_load()
			if iface and hook_full(listed, kind, iface):
				target = rnd.choice(sorted(held))
				what, args = "unload", ["unload", str(target)]
			else:
				what, args = "load", load_args(kind, iface, prio, json=True)
		k = rnd.random()
		where = "op %d (%s)" % (op, " ".join(a for a in args if a != OBJ))
		if k < 0.08 and what == "load":
			# mid-load: the kernel holds the program, no record yet
			kills["midload"] += 1
			d.stop()
			d.start(pause=60)
			c = bpfctl_bg(args)
			mid = wait_pause("BPFD_TEST_PAUSE_LOAD", where)
			seen[mid] = ""
			d.kill()
			if c.wait() == 0:
				raise Fail(where + ": the interrupted load reported success")
			c.stdout.close()
			d.start()
			listed = check_agree(seen, where + " after a kill mid-load")
			if mid in {p["kernel_info"]["id"] for p in listed}:
				raise Fail(where + ": the program killed mid-load is listed")
			model.check(listed, where + " after a kill mid-load")
			continue
		if k < 0.15 and what == "modify" and modify_changes_hook(held[target], want):
			# mid-modify: the hook changed, the record not yet written; the next
			# start completes the modify from its marker
			kills["midmodify"] += 1
			d.stop()
			d.start(pause=60, what="MODIFY")
			c = bpfctl_bg(args)
			if wait_pause("BPFD_TEST_PAUSE_MODIFY", where) != target:
				raise Fail(where + ": another program paused")
			d.kill()
			if c.wait() == 0:
				raise Fail(where + ": the interrupted modify reported success")
			c.stdout.close()
			d.start()
			model.held[target] = {want}
			listed = check_agree(seen, where + " after a kill mid-modify")
			model.check(listed, where + " after a kill mid-modify")
			continue
		if k < 0.2:
			# kill while the operation is in flight, at a random moment
			kills["inflight"] += 1
			c = bpfctl_bg(args)
			time.sleep(rnd.uniform(0, 0.15))
			d.kill()
			out, _ = c.communicate()
			ok = c.returncode == 0
			d.start()
			if what == "load":
				model.new_load = args[args.index("-n") + 1]
				if ok:
					nid = json.loads(out)["kernel_info"]["id"]
					seen[nid] = ""
					model.held[nid] = {variant(json.loads(out))}
			elif what == "unload":
				vs = model.held.pop(target)
				if not ok:
					model.maybe[target] = vs
			elif want and ok:
				model.held[target] = {want}
			elif want:
				model.held[target].add(want)
			elif ok:
				raise Fail(where + ": a modify the daemon must refuse succeeded")
			where += " after a kill in flight (%s)" % ("completed" if ok else "cut off")
			listed = check_agree(seen, where)
			model.check(listed, where)
			continue
		rc, out = ctl(*args)
		if what == "modify" and not want:
			if rc == 0:
				raise Fail(where + ": succeeded; the daemon must refuse it: " + out)
			if "error" not in out.lower():
				raise Fail(where + ": refused without an error message: " + out)
			done["refused"] += 1
		elif rc != 0:
			raise Fail(where + ": " + out)
		elif what == "load":
			g = json.loads(out)
			seen[g["kernel_info"]["id"]] = ""
			model.held[g["kernel_info"]["id"]] = {variant(g)}
			done["load"] += 1
		elif what == "unload":
			del model.held[target]
			done["unload"] += 1
		else:
			g = json.loads(out)
			if variant(g) != want:
				raise Fail("%s: answered %s, asked for %s" %
					   (where, fmt_variant(variant(g)), fmt_variant(want)))
			model.held[target] = {want}
			done["modify"] += 1
		if k < 0.3:
			kills["idle"] += 1
			d.kill()
			d.start()
			where += " after a kill between operations"
			listed = check_agree(seen, where)
		else:
			listed = ctl_json("list")
			check_order(listed, where)
		model.check(listed, where)
	listed = check_agree(seen, "end")
	model.check(listed, "end")
	for p in listed:
		rc, out = ctl("unload", str(p["kernel_info"]["id"]))
		if rc != 0:
			raise Fail("final unload: " + out)
	check_agree(seen, "after unloading everything")
	d.stop()
	result("%d operations (completed: %s), kills: %s (%d restarts), %d programs seen" %
	    (nops, done, kills, sum(kills.values()), len(seen)))


# ---------------------------------------------------------------- load mode

def idle_conns(n):
	"""n connections that sent the HTTP/2 preface and an empty SETTINGS frame."""
	conns = []
	for _ in range(n):
		s = socket.socket(socket.AF_UNIX)
		s.connect(SOCK)
		s.sendall(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" + b"\0\0\0\x04\0\0\0\0\0")
		conns.append(s)
	return conns


class EventReader:
	"""bpfctl events -o json, read as it comes by a thread of its own."""

	def __init__(self):
		env = dict(os.environ, BPFD_ENDPOINT="unix://" + SOCK)
		self.proc = subprocess.Popen([BPFD, "bpfctl", "events", "-o", "json"], env=env,
					     stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
					     text=True)
		self.events, self.junk = [], []
		self.lock = threading.Lock()
		self.thread = threading.Thread(target=self.read)
		self.thread.start()

	def read(self):
		for l in self.proc.stdout:
			try:
				ev = json.loads(l)
			except ValueError:
				ev = None
			with self.lock:
				if isinstance(ev, dict) and "seq" in ev:
					self.events.append(ev)
				else:
					self.junk.append(l.rstrip())

	def seen(self):
		with self.lock:
			return {(e["kind"], e.get("id", 0)) for e in self.events}

	def finish(self, expected, where):
		"""Every (kind, id) of expected arrived (waits up to 30 s), with no gap in the
		sequence numbers and nothing else on the reader's output."""
		t = time.time()
		while not expected <= self.seen() and self.proc.poll() is None and \
				time.time() - t < 30:
			time.sleep(0.1)
		self.proc.terminate()
		self.proc.wait()
		self.thread.join()
		self.proc.stdout.close()
		if self.junk:
			raise Fail("%s: the events reader printed: %s" % (where, self.junk[:5]))
		seqs = [int(e["seq"]) for e in self.events]
		gaps = [(a, b) for a, b in zip(seqs, seqs[1:]) if b != a + 1]
		if gaps:
			raise Fail("%s: gaps in the event sequence numbers: %s" % (where, gaps[:10]))
		missing = expected - self.seen()
		if missing:
			raise Fail("%s: %d completed operations never appeared on the events "
				   "stream, e.g. %s" % (where, len(missing), sorted(missing)[:10]))
		return len(self.events)


# A client's share of a hook the kernel limits to 64 programs (one tracepoint, one
# probe, one interface's TCX ingress): 16 clients x 3 stay below the limit.
CAPPED = {"tracepoint": 3, "uprobe": 3, "tcx": 3}


def client(cid, rnd, nops, errors, counts, done):
	"""done: (event kind, id) of each completed load, unload and modify."""
	mine = {}	# id -> its last get
	chained = 0
	try:
		for op in range(nops):
			r = rnd.random()
			kind = rnd.choice(KINDS)
			if kind in ("xdp", "tc") and chained >= 2:
				kind = "tracepoint"
			same = sorted(i for i, g in mine.items() if bkind(g) == kind)
			if (r < 0.3 or not mine) and kind in CAPPED and len(same) >= CAPPED[kind]:
				# the kernel holds at most 64 programs on one tracepoint,
				# probe or TCX hook: a client at its share unloads one
				i = rnd.choice(same)
				mine.pop(i)
				rc, out = ctl("unload", str(i))
				if rc != 0:
					raise Fail("client %d: unload %d: %s" % (cid, i, out))
				done.append(("unload", i))
				counts["unload"] += 1
			elif r < 0.3 or not mine:
				iface = prio = None
				if kind in ("xdp", "tc"):
					# a chain holds 10: clients c, c+4, ... share an
					# interface and hold 2 members each
					iface = IFACES[cid % len(IFACES)]
					prio = rnd.randint(1, 1000)
				elif kind == "tcx":
					iface = rnd.choice(IFACES)
					prio = rnd.randint(1, 1000)
				g = ctl_json(*load_args(kind, iface, prio))
				i = g["kernel_info"]["id"]
				mine[i] = g
				chained += kind in ("xdp", "tc")
				done.append(("load", i))
				counts["load"] += 1
			elif r < 0.5:
				i = rnd.choice(sorted(mine))
				chained -= bkind(mine.pop(i)) in ("xdp", "tc")
				rc, out = ctl("unload", str(i))
				if rc != 0:
					raise Fail("client %d: unload %d: %s" % (cid, i, out))
				done.append(("unload", i))
				counts["unload"] += 1
			elif r < 0.65:
				i = rnd.choice(sorted(mine))
				args, want = modify_args(rnd, mine[i], json=True)
				rc, out = ctl(*args)
				if not want:
					if rc == 0:
						raise Fail("client %d: %s succeeded; the daemon must "
							   "refuse it: %s" % (cid, " ".join(args), out))
					counts["refused"] += 1
				elif rc != 0:
					raise Fail("client %d: %s: %s" % (cid, " ".join(args), out))
				else:
					g = json.loads(out)
					if variant(g) != want:
						raise Fail("client %d: %s answered %s" %
							   (cid, " ".join(args), fmt_variant(variant(g))))
					mine[i] = g
					done.append(("modify", i))
					counts["modify"] += 1
			elif r < 0.85:
				listed = ctl_json("list")
				ids = {p["kernel_info"]["id"] for p in listed}
				if not set(mine) <= ids:
					raise Fail("client %d: list lacks its programs %s" %
						   (cid, set(mine) - ids))
				for p in listed:
					i = p["kernel_info"]["id"]
					if i in mine and variant(p) != variant(mine[i]):
						raise Fail("client %d: list shows %d as %s, not %s" % (
							cid, i, fmt_variant(variant(p)),
							fmt_variant(variant(mine[i]))))
				counts["list"] += 1
			else:
				i = rnd.choice(sorted(mine))
				g = ctl_json("get", str(i))
				if g["kernel_info"]["id"] != i or variant(g) != variant(mine[i]):
					raise Fail("client %d: get %d answered %d, %s" %
						   (cid, i, g["kernel_info"]["id"], fmt_variant(variant(g))))
				counts["get"] += 1
			check_order(ctl_json("list"), "client %d op %d" % (cid, op))
		for i in mine:
			rc, out = ctl("unload", str(i))
			if rc != 0:
				raise Fail("client %d: unload %d: %s" % (cid, i, out))
			done.append(("unload", i))
	except Exception as e:
		errors.append("%s: %s" % (type(e).__name__, e))


def load_round(rnd, nclients, nops, name):
	errors, done = [], []
	counts = {"load": 0, "unload": 0, "modify": 0, "refused": 0, "list": 0, "get": 0}
	ts = [threading.Thread(target=client, args=(c, random.Random(rnd.random()), nops,
						      errors, counts, done)) for c in range(nclients)]
	# the reader follows the stream once the modify of a program of its own shows
	sentinel = ctl_json(*load_args("tracepoint"))["kernel_info"]["id"]
	reader = EventReader()
	n = 0
	while ("modify", sentinel) not in reader.seen():
		n += 1
		if n > 100 or reader.proc.poll() is not None:
			reader.finish(set(), name)
			raise Fail("%s: the events reader saw no event in 10 s" % name)
		rc, out = ctl("modify", str(sentinel), "-m", "sync=%d" % n)
		if rc != 0:
			raise Fail("%s: modify %d: %s" % (name, sentinel, out))
		time.sleep(0.1)
	t0 = time.time()
	for t in ts:
		t.start()
	for t in ts:
		t.join()
	dt = time.time() - t0
	rc, out = ctl("unload", str(sentinel))
	if rc != 0:
		errors.append("unload %d: %s" % (sentinel, out))
	done.append(("unload", sentinel))
	try:
		counts["events"] = reader.finish(set(done), name)
	except Fail as e:
		errors.append(str(e))
	return errors, counts, dt


def load_mode(rnd, nclients, nops, nidle):
	cfg = os.path.join(TMP, "bpfd.toml")
	with open(cfg, "w") as f:
		f.write("[grpc]\nmax_unix_connections = %d\nmax_connections_per_uid = %d\n"
			"idle_timeout = 3600\n" % (nidle + 64, nidle + 64))
	d = Daemon(["--config", cfg])
	d.start()
	# 1. warm-up and 2. the same work again: the allocator's arenas and the daemon's
	# tables reach their working size in 1, so what 2 adds is kept (RSS compared at
	# the same point of both rounds: idle figures depend on when glibc trims)
	w = min(nops, 25)
	rss = []
	for rnd_name in ("warm-up", "second round", "third round"):
		errors, counts, dt = load_round(rnd, nclients, w, rnd_name)
		if errors:
			raise Fail("%s: %s" % (rnd_name, "; ".join(errors[:5])))
		if ctl_json("list"):
			raise Fail("programs left after the " + rnd_name)
		time.sleep(0.5)
		if rnd_name == "warm-up":
			fd0 = d.fds()
		rss.append(d.rss_kb())
	fd1 = d.fds()
	result("%d clients x %d operations, three times: daemon fds %d then %d, RSS %s kB" %
	    (nclients, w, fd0, fd1, " then ".join(str(r) for r in rss)))
	tol = int(os.environ.get("STRESS_RSS_TOLERANCE_KB", "1024"))
	if fd1 != fd0:
		raise Fail("fd count grew: %d -> %d" % (fd0, fd1))
	# a leak grows with every round of the same work; the allocator may settle
	# once more after the warm-up (seen in the VM: +1.8 MB once, then flat).
	# AddressSanitizer keeps freed memory in its quarantine (256 MiB): RSS says
	# nothing about leaks there (make check SANITIZE=1: LeakSanitizer does)
	if os.environ.get("BPFD_SANITIZE") == "1":
		result("sanitizer build: RSS not judged (ASan's quarantine); LeakSanitizer reports leaks")
	elif rss[1] > rss[0] + tol and rss[2] > rss[1] + tol:
		raise Fail("RSS grew round after round of the same work: %s kB (tolerance %d kB "
			   "per round)" % (" -> ".join(str(r) for r in rss), tol))
	# 3. the full round while nidle idle connections stay open
	conns = idle_conns(nidle)
	time.sleep(0.5)
	fd_idle, rss_idle = d.fds(), d.rss_kb()
	if fd_idle < fd0 + nidle:
		raise Fail("the daemon holds %d fds with %d idle connections (%d before)" %
			   (fd_idle, nidle, fd0))
	errors, counts, dt = load_round(rnd, nclients, nops, "full round")
	closed = 0
	for s in conns:	# still open: the daemon did not drop them
		try:
			s.setblocking(False)
			if s.recv(65536, socket.MSG_PEEK) == b"":
				closed += 1
		except BlockingIOError:
			pass
	if closed:
		raise Fail("the daemon closed %d of the idle connections" % closed)
	fd_busy, rss_busy = d.fds(), d.rss_kb()
	for s in conns:
		s.close()
	if errors:
		raise Fail("%d client errors: %s" % (len(errors), "; ".join(errors[:5])))
	if ctl_json("list"):
		raise Fail("programs left after the clients unloaded theirs")
	t = time.time()
	while d.fds() > fd0 and time.time() - t < 10:
		time.sleep(0.1)
	time.sleep(1.5)	# the daemon gives freed heap back at most once a second
	fd2, rss2 = d.fds(), d.rss_kb()
	result("%d clients x %d operations in %.1f s: %s" % (nclients, nops, dt, counts))
	result("%d idle connections held: daemon RSS %d kB before them, %d kB once they were "
	       "open (%.1f kB each), %d kB after the round with them, %d kB after they closed; "
	       "fds %d with them, %d after" % (nidle, rss[2], rss_idle,
	       (rss_idle - rss[2]) / max(nidle, 1), rss_busy, rss2, fd_busy, fd2))
	if fd2 != fd0:
		raise Fail("fd count grew: %d -> %d" % (fd0, fd2))
	if not d.alive():
		raise Fail("the daemon died")
	d.stop()


# ---------------------------------------------------------------- busy mode

def captured_call(args):
	"""The bytes bpfctl ARGS sends (preface, SETTINGS, ..., the call), taken by a
	listener of our own: replayed on a connection the test controls."""
	path = os.path.join(TMP, "capture.sock")
	l = socket.socket(socket.AF_UNIX)
	l.bind(path)
	l.listen(1)
	l.settimeout(10)
	c = subprocess.Popen([BPFD, "bpfctl"] + args, stdout=subprocess.DEVNULL,
			     stderr=subprocess.DEVNULL,
			     env=dict(os.environ, BPFD_ENDPOINT="unix://" + path))
	s, _ = l.accept()
	s.settimeout(1)
	data = b""
	while True:
		try:
			d = s.recv(65536)
		except socket.timeout:
			break
		if not d:
			break
		data += d
	c.kill()
	c.wait()
	s.close()
	l.close()
	os.unlink(path)
	return data


def busy_mode():
	"""A connection accepted while the front is busy with calls for longer than
	handshake_timeout is read before it is judged: its call is answered, not cut off
	("Connection reset by peer", seen under t_load's 16 clients).  b holds an open
	connection; a's load keeps the front busy (BPFD_TEST_PAUSE_LOAD); meanwhile b sends
	a load and x connects: the front accepts x, then runs b's load for longer than the
	handshake timeout before it polls x again."""
	hs, pause = 1, 3
	raw = captured_call(load_args("tracepoint"))
	n = 24 + 9 + int.from_bytes(raw[24:27], "big")	# the preface and the SETTINGS
	cfg = os.path.join(TMP, "busy.toml")
	with open(cfg, "w") as f:
		f.write("[grpc]\nhandshake_timeout = %d\n" % hs)
	d = Daemon(["--config", cfg])
	d.start(pause=pause)
	b = socket.socket(socket.AF_UNIX)
	b.connect(SOCK)
	b.sendall(raw[:n])
	time.sleep(0.5)
	env = dict(os.environ, BPFD_ENDPOINT="unix://" + SOCK)
	a = subprocess.Popen([BPFD, "bpfctl"] + load_args("tracepoint"), env=env,
			     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
	time.sleep(pause / 3)
	b.sendall(raw[n:])
	x = subprocess.Popen([BPFD, "bpfctl", "list"], env=env, stdout=subprocess.PIPE,
			     stderr=subprocess.STDOUT, text=True)
	out, _ = x.communicate(timeout=60)
	aout, _ = a.communicate(timeout=60)
	b.close()
	if a.returncode != 0:
		raise Fail("the first load failed: " + aout)
	if x.returncode != 0:
		raise Fail("a list accepted while the daemon ran another call for longer than "
			   "handshake_timeout failed: " + out)
	listed = ctl_json("list")
	for p in listed:
		ctl("unload", str(p["kernel_info"]["id"]))
	if len(listed) != 2:
		raise Fail("expected the two loads, list has %d programs" % len(listed))
	d.stop()
	result("list answered after the front ran a %d s load with a %d s handshake timeout" %
	       (pause, hs))


def san_stderr():
	"""make check SANITIZE=1: a sanitizer report a daemon wrote on its stderr (UBSan
	does so in the daemon) goes where tests/sanitize/reports.sh looks."""
	rep = os.environ.get("SAN_REPORTS")
	logf = os.path.join(TMP, "daemon.log")
	if not rep or not os.path.exists(logf):
		return
	with open(logf, errors="replace") as f:
		text = f.read()
	if "runtime error:" in text or "ERROR: AddressSanitizer" in text or \
			"ERROR: LeakSanitizer" in text:
		with open(os.path.join(rep, "stderr.stress.%d" % os.getpid()), "w") as f:
			f.write(text)


def main():
	seed = int(os.environ.get("STRESS_SEED") or random.SystemRandom().randrange(1 << 30))
	result("seed %d (replay: STRESS_SEED=%d)" % (seed, seed))
	rnd = random.Random(seed)
	try:
		if sys.argv[1] == "crash":
			crash_mode(rnd, int(sys.argv[2]))
		elif sys.argv[1] == "busy":
			busy_mode()
		else:
			load_mode(rnd, int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]))
	except Fail as e:
		print("  error: %s (seed %d)" % (e, seed), file=sys.stderr)
		return 1
	finally:
		for d in DAEMONS:	# a failure leaves no daemon behind
			if d.proc and d.proc.poll() is None:
				d.proc.kill()
				d.proc.wait()
		san_stderr()
	return 0


if __name__ == "__main__":
	sys.exit(main())
