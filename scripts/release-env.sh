# Sourced (bash): the releases the harness knows (harness/releases), and
# the settings of one of them (harness/release-R.env).
#   RELEASES       every release, the series' own first
#   MAIN_RELEASE   ${RELEASES[0]}
#   RELEASE        $XSL_RELEASE if set, else MAIN_RELEASE
# then QEMU_VERSION, DEB_SRC_VERSION, tarballs and sums, PATCH_DIR, ...
# from harness/release-$RELEASE.env. An unknown release is an error
# (release_env_error is set, for the caller to report).
_release_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mapfile -t RELEASES < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' \
                        "$_release_top/harness/releases" | grep -v '^$')
MAIN_RELEASE=${RELEASES[0]}
RELEASE=${XSL_RELEASE:-$MAIN_RELEASE}
release_env_error=
if [ ! -f "$_release_top/harness/release-$RELEASE.env" ] ||
   ! grep -qxF -- "$RELEASE" <<< "$(printf '%s\n' "${RELEASES[@]}")"; then
    release_env_error="unknown release '$RELEASE' (harness/releases lists: ${RELEASES[*]})"
else
    # shellcheck disable=SC1090
    . "$_release_top/harness/release-$RELEASE.env"
fi
unset _release_top
