#!/usr/bin/env python3
"""Writes a one-layer container image as a docker-archive tar, from a root directory.

The archive is what `docker save` writes and `ctr -n k8s.io images import` reads: a gzipped layer
tar, an image config whose rootfs.diff_ids holds the digest of the uncompressed layer, and a
manifest.json naming both and the image's RepoTags. scripts/images.sh builds every image of the
real nodes with it; no registry, no Docker engine.

The output depends only on the tree's contents: entries sorted by path, mtime 0, owner 0:0 (or what
--owner says), no user or group names, gzip without a name or time, config "created" at the epoch.

Usage: image-archive.py --root DIR --tag REF --output FILE [--dockerfile FILE] [--env K=V]...
                        [--entrypoint JSON] [--cmd JSON] [--user U] [--workdir DIR]
                        [--label K=V]... [--owner PATH=UID:GID]... [--arch ARCH]
  --dockerfile the config (ENV, LABEL, USER, WORKDIR, ENTRYPOINT, CMD) of a Dockerfile's last
               stage, so that an image built here runs as the Dockerfile says; the options below
               add to it (--env, --label) or replace it (the others)
  --tag        the fully qualified reference, e.g. docker.io/library/busybox:1.36 (containerd
               stores images under that name; a short name would not match what the kubelet asks)
  --entrypoint, --cmd   a JSON array of strings, e.g. '["/pause"]'
  --owner      the owner of one path in the layer (relative to DIR), all others are 0:0
Prints one line: REF <tab> image id (config digest) <tab> archive size in bytes.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import platform
import re
import shlex
import stat
import sys
import tarfile
import tempfile

EPOCH = "1970-01-01T00:00:00Z"
# registry host (with a dot or a port, or localhost), path, and a tag: what containerd stores
REFERENCE = re.compile(
    r"^(?:[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::[0-9]+)?|localhost(?::[0-9]+)?)"
    r"(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)+"
    r":[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$"
)
ARCHES = {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64", "ppc64le": "ppc64le"}


class Fail(Exception):
    """A message for the user; the tool prints it on one line and exits 1."""


class HashingWriter(io.RawIOBase):
    """Passes bytes through to `sink`, keeping their sha256 and count."""

    def __init__(self, sink):
        super().__init__()
        self.sink = sink
        self.sha = hashlib.sha256()
        self.size = 0

    def writable(self):
        return True

    def write(self, b):
        self.sha.update(b)
        self.size += len(b)
        self.sink.write(b)
        return len(b)


def key_value(text, what):
    if "=" not in text:
        raise Fail(f"{what} '{text}' is not KEY=VALUE")
    return text.split("=", 1)


def string_array(text, what):
    try:
        value = json.loads(text)
    except json.JSONDecodeError as e:
        raise Fail(f"{what} is not JSON ({e.msg}): {text}") from None
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise Fail(f"{what} must be a JSON array of strings: {text}")
    return value


def dockerfile_config(path):
    """ENV, LABEL, USER, WORKDIR, ENTRYPOINT and CMD of the last stage of a Dockerfile, in the
    image config's shape. Only the exec (JSON) form of ENTRYPOINT and CMD is taken: the shell form
    would need a /bin/sh the images here may not have."""
    instructions, current = [], ""
    with open(path, encoding="utf-8") as f:
        for line in f:
            stripped = line.strip()
            if not current and (not stripped or stripped.startswith("#")):
                continue
            if stripped.endswith("\\"):
                current += stripped[:-1] + " "
                continue
            current += stripped
            keyword, _, rest = current.partition(" ")
            instructions.append((keyword.upper(), rest.strip()))
            current = ""
    last_from = max((i for i, (k, _) in enumerate(instructions) if k == "FROM"), default=-1)
    config = {}
    for keyword, rest in instructions[last_from + 1 :]:
        if keyword in ("ENV", "LABEL"):
            words = shlex.split(rest)
            if keyword == "ENV" and len(words) >= 2 and "=" not in words[0]:
                words = [words[0] + "=" + " ".join(words[1:])]  # the legacy form: ENV KEY value
            pairs = [key_value(w, f"{path}: {keyword}") for w in words]
            if keyword == "ENV":
                config["Env"] = merge_env(config.get("Env", []), pairs)
            else:
                config.setdefault("Labels", {}).update(pairs)
        elif keyword == "USER":
            config["User"] = rest
        elif keyword == "WORKDIR":
            config["WorkingDir"] = rest
        elif keyword in ("ENTRYPOINT", "CMD"):
            if not rest.startswith("["):
                raise Fail(f"{path}: {keyword} {rest}: only the JSON (exec) form is supported")
            config["Entrypoint" if keyword == "ENTRYPOINT" else "Cmd"] = string_array(rest, f"{path}: {keyword}")
    return config


def merge_env(env, pairs):
    """env (a list of K=V) with each pair set: replaced where its key is, else appended."""
    out = list(env)
    for k, v in pairs:
        index = next((i for i, e in enumerate(out) if e.split("=", 1)[0] == k), None)
        if index is None:
            out.append(f"{k}={v}")
        else:
            out[index] = f"{k}={v}"
    return out


def owners(pairs):
    out = {}
    for text in pairs:
        path, ids = key_value(text, "--owner")
        m = re.fullmatch(r"([0-9]+):([0-9]+)", ids)
        if not m:
            raise Fail(f"--owner {text}: expected PATH=UID:GID")
        out[path.strip("/")] = (int(m.group(1)), int(m.group(2)))
    return out


def entries(root):
    """Every path under root (not root itself), relative, sorted so that a directory precedes
    what it holds and the order never depends on the file system."""
    found = []
    for dirpath, dirnames, filenames in os.walk(root):
        rel = os.path.relpath(dirpath, root)
        for name in dirnames + filenames:
            found.append(name if rel == "." else f"{rel}/{name}")
        dirnames.sort()
    return sorted(found, key=lambda p: p.split("/"))


def write_layer(root, owner_of, sink):
    """Writes the layer tar of `root` through gzip into `sink`; returns the uncompressed digest."""
    diff = None
    seen_inodes = {}
    with gzip.GzipFile(filename="", mode="wb", fileobj=sink, mtime=0, compresslevel=6) as gz:
        diff = HashingWriter(gz)
        with tarfile.open(fileobj=diff, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            for rel in entries(root):
                full = os.path.join(root, rel)
                st = os.lstat(full)
                info = tarfile.TarInfo(rel)
                info.mtime = 0
                info.mode = stat.S_IMODE(st.st_mode)
                info.uid, info.gid = owner_of.pop(rel, (0, 0))
                info.uname = info.gname = ""
                if stat.S_ISDIR(st.st_mode):
                    info.type = tarfile.DIRTYPE
                    tar.addfile(info)
                elif stat.S_ISLNK(st.st_mode):
                    info.type = tarfile.SYMTYPE
                    info.linkname = os.readlink(full)
                    tar.addfile(info)
                elif stat.S_ISREG(st.st_mode):
                    inode = (st.st_dev, st.st_ino)
                    if st.st_nlink > 1 and inode in seen_inodes:
                        info.type = tarfile.LNKTYPE
                        info.linkname = seen_inodes[inode]
                        tar.addfile(info)
                        continue
                    seen_inodes[inode] = rel
                    info.size = st.st_size
                    with open(full, "rb") as f:
                        tar.addfile(info, f)
                else:
                    raise Fail(f"{full}: only directories, regular files and symbolic links go in a layer")
    if owner_of:
        raise Fail(f"--owner names paths that are not in {root}: {', '.join(sorted(owner_of))}")
    return "sha256:" + diff.sha.hexdigest()


def add_bytes(tar, name, data):
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), 0, 0o644
    tar.addfile(info, io.BytesIO(data))


def build(args):
    if not REFERENCE.match(args.tag):
        raise Fail(
            f"--tag '{args.tag}' is not a fully qualified reference with a tag "
            "(registry/path:tag, e.g. docker.io/library/busybox:1.36)"
        )
    if not os.path.isdir(args.root):
        raise Fail(f"--root {args.root} is not a directory")
    arch = args.arch or ARCHES.get(platform.machine())
    if not arch:
        raise Fail(f"unknown machine {platform.machine()}; pass --arch")
    config = dockerfile_config(args.dockerfile) if args.dockerfile else {}
    if args.env:
        config["Env"] = merge_env(config.get("Env", []), [key_value(e, "--env") for e in args.env])
    if args.entrypoint is not None:
        config["Entrypoint"] = string_array(args.entrypoint, "--entrypoint")
    if args.cmd is not None:
        config["Cmd"] = string_array(args.cmd, "--cmd")
    if args.user:
        config["User"] = args.user
    if args.workdir:
        config["WorkingDir"] = args.workdir
    if args.label:
        config.setdefault("Labels", {}).update(key_value(label, "--label") for label in args.label)

    out_dir = os.path.dirname(os.path.abspath(args.output))
    with tempfile.TemporaryFile(dir=out_dir) as layer_file:
        blob = HashingWriter(layer_file)
        diff_id = write_layer(args.root, owners(args.owner), blob)
        layer_name = blob.sha.hexdigest() + ".tar.gz"
        image_config = {
            "architecture": arch,
            "os": "linux",
            "created": EPOCH,
            "config": config,
            "rootfs": {"type": "layers", "diff_ids": [diff_id]},
            "history": [{"created": EPOCH, "created_by": "scripts/image-archive.py"}],
        }
        config_bytes = json.dumps(image_config, sort_keys=True, separators=(",", ":")).encode()
        config_hex = hashlib.sha256(config_bytes).hexdigest()
        manifest = [{"Config": config_hex + ".json", "RepoTags": [args.tag], "Layers": [layer_name]}]
        manifest_bytes = json.dumps(manifest, separators=(",", ":")).encode()

        fd, partial = tempfile.mkstemp(dir=out_dir, prefix=".partial-", suffix=".tar")
        try:
            with os.fdopen(fd, "wb") as out, tarfile.open(fileobj=out, mode="w", format=tarfile.USTAR_FORMAT) as tar:
                add_bytes(tar, config_hex + ".json", config_bytes)
                info = tarfile.TarInfo(layer_name)
                info.size, info.mtime, info.mode = blob.size, 0, 0o644
                layer_file.seek(0)
                tar.addfile(info, layer_file)
                add_bytes(tar, "manifest.json", manifest_bytes)
            os.chmod(partial, 0o644)
            os.replace(partial, args.output)
        except BaseException:
            os.unlink(partial)
            raise
    print(f"{args.tag}\tsha256:{config_hex}\t{os.path.getsize(args.output)}")


def main():
    p = argparse.ArgumentParser(
        description="Write a one-layer docker-archive image tar from a directory (see the module docstring)."
    )
    p.add_argument("--root", required=True, help="directory that becomes the image's /")
    p.add_argument("--tag", required=True, help="fully qualified reference, e.g. docker.io/library/busybox:1.36")
    p.add_argument("--output", required=True, help="the archive to write (replaced atomically)")
    p.add_argument("--dockerfile", help="take ENV, LABEL, USER, WORKDIR, ENTRYPOINT, CMD from its last stage")
    p.add_argument("--env", action="append", default=[], metavar="K=V")
    p.add_argument("--entrypoint", metavar="JSON", help="JSON array of strings")
    p.add_argument("--cmd", metavar="JSON", help="JSON array of strings")
    p.add_argument("--user")
    p.add_argument("--workdir")
    p.add_argument("--label", action="append", default=[], metavar="K=V")
    p.add_argument("--owner", action="append", default=[], metavar="PATH=UID:GID")
    p.add_argument("--arch", help="image architecture (default: this machine's)")
    args = p.parse_args()
    try:
        build(args)
    except Fail as e:
        print(f"image-archive.py: error: {e}", file=sys.stderr)
        sys.exit(1)
    except OSError as e:
        print(f"image-archive.py: error: {e.filename or ''}: {e.strerror}", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
