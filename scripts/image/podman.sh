#!/usr/bin/env bash
# podman with the project's settings (containers.conf beside this script) rather than the
# machine's: `scripts/image/podman.sh run ...` as you would `podman run ...`. build.sh, the
# image check (test/image) and the compose check all go through it.
here=$(cd "$(dirname "$0")" && pwd)
export CONTAINERS_CONF="$here/containers.conf"
exec podman "$@"
