#!/usr/bin/env bash
# Builds the container images the real nodes run (scripts/real-node.sh), as docker-archive tars
# for `ctr -n k8s.io images import`, with no registry and no Docker engine: the JVM images are a
# jlink runtime, the jars and the host's glibc libraries (what ldd reports); busybox is Debian's
# busybox-static with util-linux's IPC tools and scripts/shm-attach.c; pause is scripts/pause.c. scripts/image-archive.py
# writes each archive (deterministic: sorted entries, mtime 0, owner 0:0).
#
# Usage: scripts/images.sh [build|list|verify|print-env|help] [NAME...]
#   build    build the named images (default: all) into the output directory, skipping an image
#            whose inputs (every file copied into it, the JDK's jmods, these scripts) did not
#            change, and write index.tsv there (reference, file, bytes). Builds the jars first
#            when they are missing or older than their module's sources (Maven, ~2-4 min).
#            The CSI sidecars are our stand-ins (scripts/csi-sidecars, Go) under the upstream names.
#   list     print every image: reference, archive path, built|missing (builds nothing)
#   verify   check the built images (default: all built) without a container runtime: each
#            archive's format (crane validate, when go can build it), its reference, then its
#            layer extracted and run with chroot in new mount, PID and IPC namespaces (needs root):
#            java -version, the operator's --help and render, a TLS request to a local ECDSA
#            server, the agent's --help, scan and csi socket, busybox's ipcmk/ipcs/df and shm-attach, pause.
# Names: operator agent busybox pause csi-node-driver-registrar livenessprobe
#
# Environment (all optional):
#   SHAREDIPC_IMAGES_DIR  output directory                      (<repo>/target/images)
#   SHAREDIPC_CACHE       cache root (crane)                     (~/.cache/sharedipc)
#   JAVA_HOME             the JDK 17 whose jmods jlink uses      (the one jlink on PATH is in)
#   print-env  print `export PAUSE_IMAGE=... SHAREDIPC_IMAGES_DIR=...` lines (containerd's
#            sandbox_image must name PAUSE_IMAGE): eval "$(scripts/images.sh print-env)"
set -euo pipefail
# The images' file modes must not follow the caller's umask (a 077 one made every directory 0700,
# and the operator, uid 65532, could not run java).
umask 022

PROG="images.sh"

SCRIPT_DIR="$(CDPATH='' cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(dirname "$SCRIPT_DIR")"
# shellcheck source=lib/common.sh
. "$SCRIPT_DIR/lib/common.sh"
OUT_DIR="${SHAREDIPC_IMAGES_DIR:-$REPO_ROOT/target/images}"
SHAREDIPC_CACHE="${SHAREDIPC_CACHE:-$HOME/.cache/sharedipc}"
ARCHIVER="$SCRIPT_DIR/image-archive.py"

# ---- the images, under the names deploy/, the chart and the tests use ------------------------
# The chart's appVersion is the tag of the project's own images (deploy/ names the same; the
# operator module's ImagesTest checks that every image deploy/ and the chart name is one listed here).
APP_VERSION="$(sed -n 's/^appVersion: *"\{0,1\}\([^"]*\)"\{0,1\} *$/\1/p' "$REPO_ROOT/charts/sharedipc/Chart.yaml")"
[[ -n "$APP_VERSION" ]] || die "no appVersion in charts/sharedipc/Chart.yaml"
OPERATOR_IMAGE="ghcr.io/sharedipc/operator:$APP_VERSION"
AGENT_IMAGE="ghcr.io/sharedipc/agent:$APP_VERSION"
# busybox:1.36 in the manifests and tests; containerd stores it under the normalized name. Its
# content is Debian's busybox-static (1.35 in bookworm) plus util-linux's ipcmk/ipcs/ipcrm.
BUSYBOX_IMAGE="docker.io/library/busybox:1.36"
export PAUSE_IMAGE="registry.k8s.io/pause:3.10"
REGISTRAR_VERSION="v2.13.0"
LIVENESSPROBE_VERSION="v2.15.0"
REGISTRAR_IMAGE="registry.k8s.io/sig-storage/csi-node-driver-registrar:$REGISTRAR_VERSION"
LIVENESSPROBE_IMAGE="registry.k8s.io/sig-storage/livenessprobe:$LIVENESSPROBE_VERSION"
CRANE_VERSION="v0.22.1"

NAMES=(operator agent busybox pause csi-node-driver-registrar livenessprobe)

ref_of() {
  case "$1" in
    operator) echo "$OPERATOR_IMAGE" ;;
    agent) echo "$AGENT_IMAGE" ;;
    busybox) echo "$BUSYBOX_IMAGE" ;;
    pause) echo "$PAUSE_IMAGE" ;;
    csi-node-driver-registrar) echo "$REGISTRAR_IMAGE" ;;
    livenessprobe) echo "$LIVENESSPROBE_IMAGE" ;;
    *) return 1 ;;
  esac
}
archive_of() { echo "$OUT_DIR/$1.tar"; }
stamp_of() { echo "$OUT_DIR/.stamps/$1.sha256"; }

# The JVM images' runtime: modules jdeps finds in the jars, plus what it cannot see: the SunEC
# provider (TLS to the API server: Go's crypto/tls offers only elliptic-curve key exchange, and
# its serving certificates are often ECDSA) and sun.misc.Unsafe (Netty, JNA), both reached by
# reflection or service lookup.
JAVA_EXTRA_MODULES="jdk.crypto.ec,jdk.unsupported"
JAVA_DIR=/opt/java/openjdk
# java.desktop (java.beans, for Jackson) comes with AWT's X11, sound, font and image natives that
# need some 25 host libraries (X11, freetype, alsa); nothing here draws, so they stay out.
JLINK_EXCLUDES="glob:/java.desktop/**/libawt_xawt.so,glob:/java.desktop/**/libsplashscreen.so,glob:/java.desktop/**/libjawt.so,glob:/java.desktop/**/libjsound.so,glob:/java.desktop/**/libfontmanager.so,glob:/java.desktop/**/libjavajpeg.so,glob:/java.desktop/**/liblcms.so"
JVM_PATH="$JAVA_DIR/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
PLAIN_PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# What the agent's launcher (agent/bin/sharedipc-agent) runs besides shell builtins, and a few
# commands for `kubectl exec` into the agent.
AGENT_APPLETS=(sh dirname cat ls env ps)
# The host tools the busybox image adds, at their host paths (ahead of /bin on PATH): Debian's
# busybox has no ipcmk/ipcs/ipcrm, and coreutils' df knows --output and -B1 (tmpfs sizes).
BUSYBOX_EXTRA_TOOLS=(ipcmk ipcs ipcrm df)

usage() {
  script_usage
}

# ---- inputs and stamps ---------------------------------------------------------------------
# Each build lists the files it read (one per line, absolute); the stamp is their sha256sum, so
# the image is current exactly when `sha256sum -c` of its stamp passes.
INPUTS=""
add_input() { # file... (kept as absolute paths: the stamp is checked from /)
  local f
  for f in "$@"; do readlink -f "$f"; done >>"$INPUTS"
}

is_current() { # name
  local archive stamp
  archive="$(archive_of "$1")"
  stamp="$(stamp_of "$1")"
  [[ -f "$archive" && -s "$stamp" && ! "$stamp" -ot "$archive" ]] || return 1
  (cd / && sha256sum --status --strict -c "$stamp" 2>/dev/null)
}

write_stamp() { # name
  local stamp
  stamp="$(stamp_of "$1")"
  mkdir -p "$(dirname "$stamp")"
  sort -u "$INPUTS" | tr '\n' '\0' | xargs -0 sha256sum >"$stamp.partial"
  mv "$stamp.partial" "$stamp"
}

# ---- host files ----------------------------------------------------------------------------
# Copies host files into the root at the same path (following symbolic links), as inputs.
copy_host() { # root file...
  local root="$1" f
  shift
  for f in "$@"; do
    [[ -f "$f" ]] || die "$f: not a file on this host (needed in the image)"
    mkdir -p "$root$(dirname "$f")"
    cp -L --preserve=mode "$f" "$root$f"
    add_input "$f"
  done
}

# Copies the shared libraries `ldd` reports for each file (and the dynamic loader) from the host,
# keeping their paths. Libraries the root itself holds (libjvm.so under the runtime) resolve
# through libdirs and are not copied; a library ldd cannot find is an error.
copy_libs() { # root libdirs(colon-separated, inside root, may be empty) file...
  local root="$1" libdirs="$2" f line lib path missing="" search="" d dirs=()
  shift 2
  if [[ -n "$libdirs" ]]; then
    IFS=: read -r -a dirs <<<"$libdirs"
    for d in "${dirs[@]}"; do search+="${search:+:}$root$d"; done
  fi
  local -A wanted=()
  for f in "$@"; do
    while IFS= read -r line; do
      line="${line#"${line%%[![:space:]]*}"}"
      case "$line" in
        *"=> not found"*) missing+=" ${line%% *} (for ${f#"$root"})" ;;
        *" => "/*) path="${line#* => }" && wanted["${path%% (*}"]=1 ;;
        /*) wanted["${line%% (*}"]=1 ;;
        *) ;; # linux-vdso.so.1, "statically linked", "not a dynamic executable"
      esac
    done < <(LD_LIBRARY_PATH="$search" ldd "$f" 2>/dev/null || true)
  done
  [[ -z "$missing" ]] || die "ldd cannot find:$missing"
  for lib in "${!wanted[@]}"; do
    [[ "$lib" == "$root"/* ]] || copy_host "$root" "$lib"
  done
}

# ---- the jars ------------------------------------------------------------------------------
OPERATOR_JAR="$REPO_ROOT/operator/target/sharedipc-operator.jar"
AGENT_JAR="$REPO_ROOT/agent/target/sharedipc-agent.jar"
AGENT_CSI_JAR="$REPO_ROOT/agent/target/sharedipc-agent-csi.jar"

jar_stale() { # jar module
  [[ -f "$1" ]] || return 0
  [[ -n "$(cd "$REPO_ROOT" && find pom.xml api/pom.xml api/src/main "$2/pom.xml" "$2/src/main" -newer "$1" -print -quit 2>/dev/null)" ]]
}

JARS_CHECKED=0
ensure_jars() {
  ((JARS_CHECKED == 0)) || return 0
  JARS_CHECKED=1
  if jar_stale "$OPERATOR_JAR" operator || jar_stale "$AGENT_JAR" agent || jar_stale "$AGENT_CSI_JAR" agent; then
    log "building jars: ~2-4 min (./mvnw -B -q -pl operator,agent -am package -DskipTests)"
    (cd "$REPO_ROOT" && nice -n 10 ./mvnw -B -q -pl operator,agent -am package -DskipTests) ||
      die "the Maven build of the jars failed (run it yourself: ./mvnw -pl operator,agent -am package -DskipTests)"
  fi
  local j
  for j in "$OPERATOR_JAR" "$AGENT_JAR" "$AGENT_CSI_JAR"; do
    [[ -f "$j" ]] || die "$j is missing after the Maven build"
  done
}

# ---- the JDK -------------------------------------------------------------------------------
find_jdk() {
  local home="${JAVA_HOME:-}"
  if [[ -z "$home" ]]; then
    local jlink
    jlink="$(command -v jlink)" || die "no jlink on PATH and JAVA_HOME is not set (install openjdk-17-jdk-headless)"
    home="$(dirname "$(dirname "$(readlink -f "$jlink")")")"
  fi
  [[ -x "$home/bin/jlink" && -x "$home/bin/jdeps" ]] || die "$home has no bin/jlink and bin/jdeps (JAVA_HOME must be a JDK)"
  [[ -f "$home/jmods/java.base.jmod" ]] || die "$home has no jmods/ (Debian: apt-get install openjdk-17-jdk-headless; jlink needs them)"
  grep -q '^JAVA_VERSION="17[."]' "$home/release" || die "$home is not a JDK 17 ($(grep '^JAVA_VERSION=' "$home/release" || echo 'no release file'))"
  JDK="$home"
}

# Writes a jlink runtime for the jars at root$JAVA_DIR; lists the modules on stderr.
jlink_runtime() { # root jar...
  local root="$1" mods m
  shift
  find_jdk
  mods="$(nice -n 10 "$JDK/bin/jdeps" --print-module-deps --ignore-missing-deps --multi-release 17 "$@")" ||
    die "jdeps failed on $*"
  mods="$(tr , "\n" <<<"$mods,$JAVA_EXTRA_MODULES" | awk 'NF && !seen[$0]++' | paste -sd, -)"
  log "  jlink runtime with modules: $mods"
  mkdir -p "$root$(dirname "$JAVA_DIR")"
  nice -n 10 "$JDK/bin/jlink" --strip-debug --no-header-files --no-man-pages --compress=2 \
    --generate-cds-archive --exclude-files="$JLINK_EXCLUDES" \
    --add-modules "$mods" --output "$root$JAVA_DIR" >/dev/null ||
    die "jlink failed (modules $mods, JDK $JDK)"
  # The archive for uncompressed oops serves heaps over 32 GiB only; both images run small heaps.
  rm -f "$root$JAVA_DIR/lib/server/classes_nocoops.jsa"
  add_input "$JDK/release"
  for m in $("$root$JAVA_DIR/bin/java" --list-modules | sed 's/@.*//'); do
    add_input "$JDK/jmods/$m.jmod"
  done
}

# ldd of the runtime's launcher and every shared library in it, plus the native libraries the
# jars unpack at run time (JNA's libjnidispatch, Netty's epoll transport for the CSI socket).
runtime_libs() { # root jar...
  local root="$1" natives
  shift
  natives="$(mktemp -d "$WORK/natives.XXXXXX")"
  local jar
  for jar in "$@"; do
    # only this machine's architecture: the jars carry natives for a dozen others
    (cd "$natives" && unzip -q -o "$jar" 'com/sun/jna/linux-x86-64/*.so' 'META-INF/native/*x86_64.so' 2>/dev/null || true)
  done
  mapfile -t sos < <(find "$root$JAVA_DIR" "$natives" -name '*.so' -type f | sort)
  copy_libs "$root" "$JAVA_DIR/lib:$JAVA_DIR/lib/server" "$root$JAVA_DIR/bin/java" "${sos[@]}"
}

base_files() { # root
  local root="$1"
  mkdir -p "$root/etc" "$root/tmp" "$root/root" "$root/home/nonroot"
  chmod 1777 "$root/tmp"
  chmod 0700 "$root/root"
  printf 'root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
  chmod 0644 "$root/etc/passwd" "$root/etc/group" "$root/etc/nsswitch.conf"
}

# The Debian packages the images are made of or with, installed when missing (install_packages, scripts/lib/common.sh).
host_packages() {
  local missing=()
  [[ -x /bin/busybox ]] && file -L /bin/busybox 2>/dev/null | grep -q 'statically linked' || missing+=(busybox-static)
  command -v file >/dev/null || missing+=(file)
  command -v ipcmk >/dev/null && command -v ipcs >/dev/null || missing+=(util-linux)
  command -v gcc >/dev/null && [[ -f /usr/lib/x86_64-linux-gnu/libc.a ]] || missing+=(gcc libc6-dev)
  command -v ldd >/dev/null || missing+=(libc-bin)
  install_packages "$PROG" "for the real nodes' images" "${missing[@]}"
}

busybox_binary() {
  local b=/bin/busybox
  [[ -x "$b" ]] && file -L "$b" 2>/dev/null | grep -q 'statically linked' ||
    die "$b is not Debian's static busybox (apt-get install busybox-static)"
  echo "$b"
}

# ---- each image ----------------------------------------------------------------------------
archive() { # name root image-archive.py options...
  local name="$1" root="$2"
  shift 2
  add_input "$ARCHIVER" "${BASH_SOURCE[0]}"
  python3 "$ARCHIVER" --root "$root" --tag "$(ref_of "$name")" --output "$(archive_of "$name")" "$@" >/dev/null
}

build_operator() {
  local root="$WORK/rootfs"
  ensure_jars
  base_files "$root"
  jlink_runtime "$root" "$OPERATOR_JAR"
  mkdir -p "$root/opt/sharedipc"
  cp "$OPERATOR_JAR" "$root/opt/sharedipc/sharedipc-operator.jar"
  add_input "$OPERATOR_JAR" "$REPO_ROOT/operator/Dockerfile" "$REPO_ROOT/charts/sharedipc/Chart.yaml"
  runtime_libs "$root" "$OPERATOR_JAR"
  archive operator "$root" --dockerfile "$REPO_ROOT/operator/Dockerfile" \
    --env "PATH=$JVM_PATH" --env "JAVA_HOME=$JAVA_DIR" --owner home/nonroot=65532:65532
}

build_agent() {
  local root="$WORK/rootfs" bb a
  ensure_jars
  base_files "$root"
  jlink_runtime "$root" "$AGENT_JAR" "$AGENT_CSI_JAR"
  mkdir -p "$root/opt/sharedipc" "$root/usr/local/bin" "$root/bin"
  cp "$AGENT_JAR" "$AGENT_CSI_JAR" "$root/opt/sharedipc/"
  install -m 0755 "$REPO_ROOT/agent/bin/sharedipc-agent" "$root/usr/local/bin/sharedipc-agent"
  bb="$(busybox_binary)"
  install -m 0755 "$bb" "$root/bin/busybox"
  for a in "${AGENT_APPLETS[@]}"; do ln -s busybox "$root/bin/$a"; done
  add_input "$AGENT_JAR" "$AGENT_CSI_JAR" "$REPO_ROOT/agent/bin/sharedipc-agent" "$bb" \
    "$REPO_ROOT/agent/Dockerfile" "$REPO_ROOT/charts/sharedipc/Chart.yaml"
  runtime_libs "$root" "$AGENT_JAR" "$AGENT_CSI_JAR"
  archive agent "$root" --dockerfile "$REPO_ROOT/agent/Dockerfile" \
    --env "PATH=$JVM_PATH" --env "JAVA_HOME=$JAVA_DIR"
}

build_busybox() {
  local root="$WORK/rootfs" bb a t tools=() version
  bb="$(busybox_binary)"
  base_files "$root"
  mkdir -p "$root/bin"
  install -m 0755 "$bb" "$root/bin/busybox"
  for a in $("$bb" --list); do
    [[ "$a" == busybox ]] || ln -s busybox "$root/bin/$a"
  done
  for t in "${BUSYBOX_EXTRA_TOOLS[@]}"; do
    [[ -x "/usr/bin/$t" ]] || die "/usr/bin/$t is missing (apt-get install util-linux coreutils)"
    tools+=("/usr/bin/$t")
  done
  copy_host "$root" "${tools[@]}"
  copy_libs "$root" "" "${tools[@]}"
  # shm-attach (scripts/shm-attach.c): a process that keeps a segment attached, for the tests.
  nice -n 10 gcc -static -O2 -s -Wall -Wextra -Werror -o "$root/bin/shm-attach" "$SCRIPT_DIR/shm-attach.c" ||
    die "gcc -static failed on scripts/shm-attach.c (a static glibc needs libc6-dev)"
  add_input "$bb" "$SCRIPT_DIR/shm-attach.c"
  version="$(dpkg-query -W -f='${Version}' busybox-static 2>/dev/null || echo unknown)"
  archive busybox "$root" --env "PATH=$PLAIN_PATH" --cmd '["sh"]' \
    --label "org.opencontainers.image.description=Debian busybox-static $version with util-linux ipcmk, ipcs, ipcrm, coreutils df and shm-attach (scripts/images.sh)"
}

build_pause() {
  local root="$WORK/rootfs"
  command -v gcc >/dev/null || die "no gcc (apt-get install gcc libc6-dev)"
  mkdir -p "$root"
  nice -n 10 gcc -static -O2 -s -Wall -Wextra -Werror -o "$root/pause" "$SCRIPT_DIR/pause.c" ||
    die "gcc -static failed on scripts/pause.c (a static glibc needs libc6-dev)"
  add_input "$SCRIPT_DIR/pause.c" "$(readlink -f "$(command -v gcc)")" /usr/lib/x86_64-linux-gnu/libc.a
  # as upstream's pause: an unprivileged user, nothing else in the image
  archive pause "$root" --entrypoint '["/pause"]' --user 65535:65535 --workdir /
}

# A CSI sidecar: the upstream modules cannot be fetched here (the Go module proxy answers 403 for
# github.com/kubernetes-csi/node-driver-registrar and .../livenessprobe), so the image under the
# upstream name holds our stand-in of scripts/csi-sidecars/<program> (what each does, and does
# not, is said at the top of its main.go and in docs/local-cluster.md).
go_sidecar() { # name program
  local name="$1" program="$2" src="$SCRIPT_DIR/csi-sidecars" root="$WORK/rootfs"
  command -v go >/dev/null || die "no go on PATH (needed for $name: apt-get install golang-go)"
  mkdir -p "$root"
  (cd "$src" && GOWORK=off GOTOOLCHAIN="${GOTOOLCHAIN:-auto}" CGO_ENABLED=0 nice -n 10 go build -trimpath \
    -ldflags "-s -w" -o "$root/$program" "./$program") || die "go build of scripts/csi-sidecars/$program failed"
  add_input "$(command -v go)" "$src/go.mod" "$src/go.sum"
  add_input $(find "$src" -name '*.go' ! -name '*_test.go' | sort)
  # as upstream's images: the binary alone, run as root (the registrar makes its socket in the
  # kubelet's root-owned plugin registration directory)
  archive "$name" "$root" --entrypoint "[\"/$program\"]" --workdir / \
    --label "org.opencontainers.image.description=sharedipc's stand-in for $name (scripts/csi-sidecars/$program)"
}

build_csi-node-driver-registrar() { go_sidecar csi-node-driver-registrar registrar; }
build_livenessprobe() { go_sidecar livenessprobe livenessprobe; }

WORK=""
cleanup() { [[ -z "$WORK" ]] || rm -rf "$WORK"; }
trap cleanup EXIT

human() { numfmt --to=iec-i --suffix=B --format='%.1f' "$1"; }

write_index() {
  local n f
  {
    printf '# reference\tfile\tbytes\n'
    for n in "${NAMES[@]}"; do
      f="$(archive_of "$n")"
      [[ -f "$f" ]] && printf '%s\t%s\t%s\n' "$(ref_of "$n")" "$(basename "$f")" "$(stat -c %s "$f")"
    done
  } >"$OUT_DIR/index.tsv.partial"
  mv "$OUT_DIR/index.tsv.partial" "$OUT_DIR/index.tsv"
}

cmd_build() { # names (explicit or not)
  local explicit="$1" n rc failed=() started
  shift
  mkdir -p "$OUT_DIR"
  exec 9>"$OUT_DIR/.lock"
  flock -w 1800 9 || die "another images.sh build holds $OUT_DIR/.lock"
  for n in "$@"; do
    case "$n" in operator | agent) ensure_jars ;; esac
    if is_current "$n"; then
      log "$n: up to date ($(ref_of "$n"))"
      continue
    fi
    started=$SECONDS
    log "$n: building $(ref_of "$n")"
    WORK="$(mktemp -d "$OUT_DIR/.work-$n.XXXXXX")"
    INPUTS="$WORK/inputs"
    : >"$INPUTS"
    # in a subshell with errexit: a function called as `f || ...` would run with errexit off
    set +e
    (
      set -e
      "build_$n"
    )
    rc=$?
    set -e
    if ((rc == 0)); then
      write_stamp "$n"
      log "$n: $(human "$(stat -c %s "$(archive_of "$n")")") in $((SECONDS - started)) s: $(archive_of "$n")"
    elif ((rc == 3)); then
      failed+=("$n")
    else
      exit "$rc"
    fi
    rm -rf "$WORK"
    WORK=""
  done
  write_index
  cat "$OUT_DIR/index.tsv"
  if ((${#failed[@]} > 0)); then
    log "not built: ${failed[*]} (see SKIPPED above)"
    ((explicit == 0)) || exit 1
  fi
}

cmd_list() {
  local n f
  for n in "${NAMES[@]}"; do
    f="$(archive_of "$n")"
    printf '%s\t%s\t%s\n' "$(ref_of "$n")" "$f" "$([[ -f "$f" ]] && echo built || echo missing)"
  done
}

# ---- verify --------------------------------------------------------------------------------
VERIFY_FAILED=0
pass() { log "  ok: $*"; }
fail() {
  log "  FAILED: $*"
  VERIFY_FAILED=1
}

# Prints a field of the archive's image config: env (one K=V a line), entrypoint, cmd (one word
# a line), user, or tag (the manifest's RepoTags).
image_field() { # archive field
  python3 - "$1" "$2" <<'EOF'
import json, sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    manifest = json.load(t.extractfile("manifest.json"))[0]
    config = json.load(t.extractfile(manifest["Config"]))["config"]
field = sys.argv[2]
if field == "tag":
    lines = manifest["RepoTags"]
elif field == "layer":
    lines = manifest["Layers"][:1]
elif field == "env":
    lines = config.get("Env", [])
elif field in ("entrypoint", "cmd"):
    lines = config.get(field.capitalize(), [])
elif field == "user":
    lines = [config.get("User") or "0:0"]
sys.stdout.write("".join(line + "\n" for line in lines))
EOF
}

ensure_crane() {
  CRANE="$SHAREDIPC_CACHE/tools/crane-$CRANE_VERSION/crane"
  [[ -x "$CRANE" ]] && return 0
  command -v go >/dev/null || {
    CRANE=""
    return 0
  }
  log "building crane $CRANE_VERSION (go-containerregistry) to check the archives' format (~1 min, once)"
  GOWORK=off CGO_ENABLED=0 GOBIN="$(dirname "$CRANE")" nice -n 10 \
    go install -trimpath -ldflags "-s -w" "github.com/google/go-containerregistry/cmd/crane@$CRANE_VERSION" >&2 || {
    log "  crane did not build: the archives' format is checked only by the runs below"
    CRANE=""
  }
}

# Runs a command inside the extracted image: new mount, PID and IPC namespaces (nothing touches
# the host's IPC objects), /proc of the new PID namespace, the image's Env and User.
ROOT=""
USERSPEC=""
ENVS=()
in_image() { # command...
  env -i "${ENVS[@]}" /usr/bin/unshare --mount --pid --fork --kill-child --ipc --mount-proc="$ROOT/proc" \
    /usr/sbin/chroot --userspec="$USERSPEC" "$ROOT" "$@"
}
# The same in the background: `in_image_bg CMD... &` makes $! unshare's own PID (exec, no subshell
# between), whose one child is the command, PID 1 of its namespace.
in_image_bg() { # command...
  exec env -i "${ENVS[@]}" /usr/bin/unshare --mount --pid --fork --kill-child --ipc --mount-proc="$ROOT/proc" \
    /usr/sbin/chroot --userspec="$USERSPEC" "$ROOT" "$@"
}
# The command started by in_image_bg (unshare blocks SIGTERM while it waits, so it is signalled
# itself), once it has exec()ed into a process named `comm`; empty when it is not running.
bg_child() { # unshare-pid comm tries
  local i c
  for i in $(seq "$3"); do
    c="$(pgrep -P "$1" || true)"
    [[ -n "$c" && "$(cat "/proc/$c/comm" 2>/dev/null)" == "$2" ]] && echo "$c" && return 0
    kill -0 "$1" 2>/dev/null || return 0
    sleep 0.1
  done
}
# Stops what in_image_bg started: SIGTERM to the command, SIGKILL after 5 s; returns its status.
stop_bg() { # unshare-pid
  local c i rc=0
  c="$(pgrep -P "$1" || true)"
  if [[ -n "$c" ]]; then
    kill -TERM "$c" 2>/dev/null || true
    for i in $(seq 50); do
      kill -0 "$c" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$c" 2>/dev/null || true
  fi
  wait "$1" || rc=$?
  return "$rc"
}

# The operator against a local TLS server with an ECDSA P-256 certificate (what a Go API server
# often has): the runtime must hold SunEC (jdk.crypto.ec) for the handshake. The server answers
# every request 404; what matters is that a request arrived over TLS.
verify_operator_tls() { # entrypoint...
  local dir="$ROOT/tmp/tls" port="" i out
  mkdir -p "$dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 1 -subj /CN=localhost \
    -addext subjectAltName=IP:127.0.0.1,DNS:localhost -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null ||
    {
      fail "openssl could not make a test certificate"
      return
    }
  python3 - "$dir" <<'EOF' &
import http.server, ssl, sys, threading
d = sys.argv[1]
class H(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        with open(d + "/requests", "a") as f:
            f.write(f"{self.command} {self.path}\n")
        body = b'{"kind":"Status","apiVersion":"v1","status":"Failure","code":404}'
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    do_POST = do_PUT = do_PATCH = do_GET
    def log_message(self, *a):
        pass
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(d + "/cert.pem", d + "/key.pem")
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
s.socket = ctx.wrap_socket(s.socket, server_side=True)
with open(d + "/port", "w") as f:
    f.write(str(s.server_address[1]))
threading.Timer(90, s.shutdown).start()
s.serve_forever()
EOF
  local server=$!
  for i in $(seq 50); do
    [[ -s "$dir/port" ]] && break
    sleep 0.1
  done
  port="$(cat "$dir/port" 2>/dev/null || true)"
  if [[ -z "$port" ]]; then
    fail "the local TLS server did not start"
    kill "$server" 2>/dev/null || true
    return
  fi
  cat >"$dir/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters: [{name: t, cluster: {server: "https://127.0.0.1:$port", certificate-authority: /tmp/tls/cert.pem}}]
users: [{name: t, user: {token: verify}}]
contexts: [{name: t, context: {cluster: t, user: t, namespace: default}}]
current-context: t
EOF
  chmod -R a+rX "$dir"
  in_image_bg "$@" run --kubeconfig /tmp/tls/kubeconfig --no-leader-election --http-port 0 >"$dir/operator.log" 2>&1 &
  local op=$!
  for i in $(seq 600); do
    [[ -s "$dir/requests" ]] && break
    kill -0 "$op" 2>/dev/null || break
    sleep 0.1
  done
  stop_bg "$op" || true
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  if [[ -s "$dir/requests" ]]; then
    pass "TLS to an ECDSA P-256 server as uid 65532: $(head -1 "$dir/requests")"
  else
    out="$(grep -m1 -iE 'ssl|handshake|exception' "$dir/operator.log" || tail -1 "$dir/operator.log")"
    fail "no request reached the ECDSA TLS server: $out"
  fi
}

verify_java() {
  local out
  out="$(in_image java -version 2>&1)" && [[ "$out" == *'version "17'* ]] &&
    pass "java -version (PATH from Env): $(grep -m1 'VM' <<<"$out")" || fail "java -version: $out"
  out="$(in_image java -XshowSettings:security:providers -version 2>&1 || true)"
  [[ "$out" == *"Provider name: SunEC"* ]] && pass "SunEC provider present" || fail "no SunEC provider in the runtime"
  [[ "$(in_image java -Xshare:on -version 2>&1)" == *sharing* ]] && pass "class data sharing archive usable" ||
    fail "java -Xshare:on did not map the CDS archive"
}

verify_one() { # name
  local name="$1" archive ref out entry=() cmd=() layer
  archive="$(archive_of "$name")"
  ref="$(ref_of "$name")"
  log "$name: $archive ($(human "$(stat -c %s "$archive")"))"
  if [[ -n "$CRANE" ]]; then
    out="$("$CRANE" validate --tarball "$archive" 2>&1)" && pass "crane validate" || fail "crane validate: $out"
  fi
  [[ "$(image_field "$archive" tag)" == "$ref" ]] && pass "RepoTags $ref" || fail "RepoTags is '$(image_field "$archive" tag)', expected $ref"
  ROOT="$(mktemp -d "${TMPDIR:-/tmp}/sharedipc-verify-$name.XXXXXX")"
  VERIFY_ROOTS+=("$ROOT")
  layer="$(image_field "$archive" layer)"
  tar -xOf "$archive" "$layer" | tar -xz -C "$ROOT" --same-owner --same-permissions ||
    {
      fail "the layer does not extract"
      return
    }
  chmod 0755 "$ROOT" # mktemp's 0700 would keep a non-root image user out of /
  mkdir -p "$ROOT/proc"
  mapfile -t ENVS < <(image_field "$archive" env)
  mapfile -t entry < <(image_field "$archive" entrypoint)
  mapfile -t cmd < <(image_field "$archive" cmd)
  USERSPEC="$(image_field "$archive" user)"
  case "$name" in
    operator)
      verify_java
      out="$(in_image "${entry[@]}" --help 2>&1)" && [[ "$out" == *"Usage: sharedipc-operator"* ]] &&
        pass "operator --help" || fail "operator --help: $(echo "$out" | tail -3)"
      cp "$REPO_ROOT/samples/market-data-samepod.yaml" "$ROOT/tmp/sample.yaml"
      chmod a+r "$ROOT/tmp/sample.yaml"
      out="$(in_image "${entry[@]}" render -f /tmp/sample.yaml 2>&1)" && [[ "$out" == *"kind: "* ]] &&
        pass "operator render samples/market-data-samepod.yaml ($(grep -c '^kind:' <<<"$out") objects)" ||
        fail "operator render: $(echo "$out" | tail -3)"
      verify_operator_tls "${entry[@]}"
      ;;
    agent)
      verify_java
      out="$(in_image "${entry[@]}" --help 2>&1)" && [[ "$out" == *"Usage: sharedipc-agent"* ]] &&
        pass "sharedipc-agent --help (the launcher under busybox sh)" || fail "sharedipc-agent --help: $(echo "$out" | tail -3)"
      # a segment made in the new IPC namespace with the host's ipcmk, then the agent's scan there;
      # JNA's loader says where it found libjnidispatch (unpacked into /tmp, then loaded)
      local jna_env=() e
      for e in "${ENVS[@]}"; do
        [[ "$e" == JAVA_OPTS=* ]] && e+=" -Djna.debug_load=true"
        jna_env+=("$e")
      done
      out="$(env -i "${jna_env[@]}" /usr/bin/unshare --mount --pid --fork --ipc --mount-proc="$ROOT/proc" /bin/sh -c \
        'ipcmk -M 12345 >/dev/null && exec /usr/sbin/chroot "$0" "$@"' "$ROOT" "${entry[@]}" scan --kind segments --json 2>&1 || true)"
      [[ "$out" == *'"bytes" : 12345'* ]] && pass "sharedipc-agent scan --json lists the 12345-byte segment" ||
        fail "sharedipc-agent scan: $(echo "$out" | tail -3)"
      [[ "$out" == *"Found library resource"*libjnidispatch.so* && "$out" != *UnsatisfiedLinkError* ]] &&
        pass "JNA loaded libjnidispatch.so" || fail "JNA did not load its native library: $(grep -m1 -i 'jna\|link' <<<"$out")"
      verify_agent_csi "${entry[@]}"
      ;;
    busybox)
      # busybox's sh runs its own applets first (df among them); /usr/bin/df is coreutils' for the
      # exec form (a probe's command) and --output
      out="$(in_image "${cmd[@]}" -c 'ipcmk -M 4096 && ipcs -m && df -k /proc && /usr/bin/df -B1 --output=size /proc && wc -l /etc/passwd' 2>&1)" &&
        [[ "$out" == *" 4096 "* && "$out" == *Mounted* && "$out" == *"1B-blocks"* ]] &&
        pass "sh -c 'ipcmk -M 4096; ipcs -m; df; /usr/bin/df --output'" || fail "busybox sh: $out"
      out="$(in_image "${cmd[@]}" -c 'shm-attach 8192 | { read -r line; echo "$line"; ipcs -m; killall shm-attach; }' 2>&1)" &&
        [[ "$out" == *"shmid "* && "$out" =~ " 8192 "+1 ]] &&
        pass "shm-attach 8192 keeps its segment attached (nattch 1)" || fail "shm-attach: $out"
      ;;
    pause)
      verify_pause "${entry[@]}"
      ;;
    csi-node-driver-registrar | livenessprobe)
      # the flags deploy/ passes are known (a static binary: nothing else in the image to check)
      out="$(in_image "${entry[@]}" --help 2>&1)" && [[ "$out" == *-csi-address* ]] &&
        pass "${entry[0]} --help lists --csi-address" || fail "${entry[0]} --help: $(echo "$out" | tail -3)"
      ;;
  esac
}

# pause as PID 1 of a new PID namespace, sent SIGTERM from outside as a runtime stops a sandbox.
verify_pause() { # entrypoint...
  local p child rc=0
  in_image_bg "$@" &
  p=$!
  child="$(bg_child "$p" pause 50)"
  if [[ -z "$child" ]]; then
    stop_bg "$p" || true
    fail "pause did not start"
    return
  fi
  sleep 0.2 # its handlers are set right after exec
  stop_bg "$p" || rc=$?
  ((rc == 0)) && pass "pause (PID 1) exits 0 on SIGTERM" || fail "pause exited $rc on SIGTERM"
}

# The CSI node plugin up to its socket: gRPC over a UNIX socket needs Netty's epoll native library,
# which the image's glibc libraries (libdl, librt, libpthread) must satisfy.
verify_agent_csi() { # entrypoint...
  local i out
  mkdir -p "$ROOT/tmp/csi-state"
  in_image_bg "$@" csi --endpoint unix:///tmp/csi.sock --node-id verify --state-dir /tmp/csi-state >"$ROOT/tmp/csi.log" 2>&1 &
  local p=$!
  for i in $(seq 300); do
    [[ -S "$ROOT/tmp/csi.sock" ]] && break
    kill -0 "$p" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -S "$ROOT/tmp/csi.sock" ]]; then pass "sharedipc-agent csi serves its socket (gRPC, Netty epoll)"; else
    out="$(grep -m1 -iE 'error|exception|unsatisf' "$ROOT/tmp/csi.log" || tail -1 "$ROOT/tmp/csi.log")"
    fail "sharedipc-agent csi made no socket: $out"
  fi
  stop_bg "$p" || true
}

VERIFY_ROOTS=()
cmd_verify() {
  local n todo=()
  (($(id -u) == 0)) || die "verify needs root (chroot, unshare); run it with sudo"
  for n in "$@"; do
    if [[ -f "$(archive_of "$n")" ]]; then todo+=("$n"); elif ((EXPLICIT)); then die "$n is not built ($(archive_of "$n")); run: $0 build $n"; fi
  done
  ((${#todo[@]} > 0)) || die "no image is built in $OUT_DIR; run: $0 build"
  trap 'rm -rf "${VERIFY_ROOTS[@]}"; cleanup' EXIT
  ensure_crane
  for n in "${todo[@]}"; do verify_one "$n"; done
  ((VERIFY_FAILED == 0)) || die "verify failed (see FAILED above)"
  log "verified: ${todo[*]}"
}

print_env() {
  printf 'export PAUSE_IMAGE=%q\n' "$PAUSE_IMAGE"
  printf 'export SHAREDIPC_IMAGES_DIR=%q\n' "$OUT_DIR"
}

main() {
  local action="${1:-build}" names=() n
  (($# == 0)) || shift
  case "$action" in
    -h | --help | help)
      usage
      return 0
      ;;
    build | list | verify | print-env) ;;
    *) usage_error images.sh action "$action" build list verify print-env ;;
  esac
  for n in "$@"; do
    ref_of "$n" >/dev/null || usage_error images.sh image "$n" "${NAMES[@]}"
    names+=("$n")
  done
  EXPLICIT=1
  ((${#names[@]} > 0)) || {
    names=("${NAMES[@]}")
    EXPLICIT=0
  }
  case "$action" in
    build)
      host_packages
      cmd_build "$EXPLICIT" "${names[@]}"
      ;;
    list) cmd_list ;;
    verify) cmd_verify "${names[@]}" ;;
    print-env) print_env ;;
  esac
}

main "$@"
