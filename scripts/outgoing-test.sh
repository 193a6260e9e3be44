#!/bin/bash
# outgoing-test.sh: what ./xsl outgoing writes is a series a maintainer can
# apply and that names its sender.
#  - without a sender identity, or with the harness placeholder, it stops
#    with one error line and writes nothing;
#  - with one (and --reroll-count 2): every patch is from and signed off by
#    the sender, the placeholder appears nowhere, the subjects say v2, each
#    patch carries To: qemu-devel and a Cc: of the maintainers that QEMU's
#    scripts/get_maintainer.pl names for it, the patches marked for stable
#    Cc qemu-stable, git send-email --dry-run accepts the series and
#    addresses the Xen maintainers, and git am applies it to pristine QEMU.
set -euo pipefail

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WORK=${XSL_RELEASE_WORK:-${XSL_WORK:-$TOP/work}}
XSL_RELEASE= . "$TOP/scripts/release-env.sh"
# Scratch clones in RAM where there is a tmpfs (QEMU checkouts: ~1 s, not ~17).
tmp=$(mktemp -d -p /dev/shm 2> /dev/null || mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
ok() { echo "ok $*"; }
bad() { echo "not ok $*"; fail=1; }

sender_name="Ada Example"
sender_email=ada.example@example.com
placeholder=$(sed -n 's/^PLACEHOLDER_NAME="\(.*\)"$/\1/p' "$TOP/xsl")
placeholder_email=$(sed -n 's/^PLACEHOLDER_EMAIL=\(.*\)$/\1/p' "$TOP/xsl")
[ -n "$placeholder" ] && [ -n "$placeholder_email" ] ||
    { echo "outgoing-test: cannot read the placeholder identity from xsl" >&2; exit 1; }

# refused DESC ENV...: ./xsl outgoing must fail with one error line and
# leave no output directory.
refused() {
    local what=$1 out=$tmp/refused-$RANDOM rc=0 lines
    shift
    env -u GIT_AUTHOR_NAME -u GIT_AUTHOR_EMAIL HOME="$tmp/home" \
        XDG_CONFIG_HOME="$tmp/home" "$@" "$TOP/xsl" outgoing "$out" \
        > "$tmp/out" 2> "$tmp/err" || rc=$?
    lines=$(wc -l < "$tmp/err")
    if [ "$rc" != 0 ] && [ "$lines" = 1 ] && [ ! -e "$out" ] &&
       grep -q '^xsl: error: outgoing: ' "$tmp/err"; then
        ok "outgoing $what: refused ($(cat "$tmp/err"))"
    else
        bad "outgoing $what: exit $rc, $lines error lines, output dir $( [ -e "$out" ] && echo left || echo none)"
        cat "$tmp/err"
    fi
}
mkdir -p "$tmp/home"
refused "without a sender identity"
refused "with the placeholder identity" \
    GIT_AUTHOR_NAME="$placeholder" GIT_AUTHOR_EMAIL="$placeholder_email"
git config --file "$tmp/home/.gitconfig" user.name "$placeholder"
git config --file "$tmp/home/.gitconfig" user.email "$placeholder_email"
refused "with the placeholder in the global git config"
rm -f "$tmp/home/.gitconfig"

out=$tmp/outgoing
GIT_AUTHOR_NAME=$sender_name GIT_AUTHOR_EMAIL=$sender_email \
    "$TOP/xsl" outgoing --reroll-count 2 "$out" > "$tmp/log" 2>&1 || {
    bad "outgoing as $sender_name: failed"
    cat "$tmp/log"
    exit 1
}
mapfile -t series < <(grep -v '^[[:space:]]*\(#\|$\)' "$TOP/patches/series")
n=${#series[@]}
mapfile -t files < <(cd "$out" && ls v2-*.patch)
[ "${#files[@]}" = $((n + 1)) ] && [ "${files[0]}" = v2-0000-cover-letter.patch ] &&
    ok "outgoing: a v2 cover letter and $n patches" ||
    bad "outgoing: ${#files[@]} files (${files[*]}), want v2 cover letter + $n"

grep -lF -e "$placeholder" -e "$placeholder_email" "$out"/*.patch > "$tmp/ph" || true
[ ! -s "$tmp/ph" ] && ok "outgoing: the placeholder identity appears in no file" ||
    bad "outgoing: placeholder identity in $(tr '\n' ' ' < "$tmp/ph")"

xen_maint=$(cd "$WORK/qemu" && sed -n '/^Xen emulation on X86 KVM CPUs$/,/^$/p' MAINTAINERS |
            sed -n 's/^M: .*<\(.*\)>$/\1/p')
[ -n "$xen_maint" ] || { bad "no 'Xen emulation on X86 KVM CPUs' maintainers in MAINTAINERS"; exit 1; }
for i in $(seq 1 "$n"); do
    f=$out/${files[$i]}
    p=${series[$((i - 1))]}
    why=
    hdr=$(sed '/^$/q' "$f")
    from=$(sed -n 's/^From: //p' <<< "$hdr")
    [ "$from" = "$sender_name <$sender_email>" ] || why="$why; From: $from"
    last_sob=$(grep '^Signed-off-by: ' "$f" | tail -n 1)
    [ "$last_sob" = "Signed-off-by: $sender_name <$sender_email>" ] ||
        why="$why; last sign-off: $last_sob"
    grep -q "^Subject: \[PATCH v2 $(printf '%02d' "$i")/$n\] " <<< "$hdr" ||
        why="$why; subject not [PATCH v2 $(printf '%02d' "$i")/$n]"
    grep -qx 'To: qemu-devel@nongnu.org' <<< "$hdr" || why="$why; no To: qemu-devel"
    # The Cc: header (folded) holds every maintainer get_maintainer.pl names.
    cc=$(awk '/^Cc: /{c=1} c && /^[^ \t]/ && !/^Cc: /{c=0} c' <<< "$hdr")
    want=$(cd "$WORK/qemu" && scripts/get_maintainer.pl --no-git-fallback \
           --no-rolestats "$TOP/patches/$p" | sed -n 's/.*<\(.*\)>.*/\1/p')
    for m in $want; do
        grep -qF "<$m>" <<< "$cc" || why="$why; $m not in Cc"
    done
    [ -n "$want" ] || why="$why; get_maintainer.pl names nobody"
    if grep -qx 'Cc: qemu-stable@nongnu.org' "$TOP/patches/$p"; then
        grep -qF 'qemu-stable@nongnu.org' <<< "$cc" || why="$why; marked for stable, no Cc: qemu-stable"
    fi
    if [ -z "$why" ]; then
        ok "outgoing ${files[$i]}: from and signed off by the sender, Cc $(wc -w <<< "$want") maintainers"
    else
        bad "outgoing ${files[$i]}: ${why#; }"
    fi
done

# git send-email parses what it would send (no mail leaves: --dry-run).
if git send-email --dry-run --confirm=never --from="$sender_name <$sender_email>" \
       "$out"/*.patch < /dev/null > "$tmp/se.log" 2>&1; then
    rcpt=$(grep -c '^RCPT TO:' "$tmp/se.log" || true)
    missing=
    for m in qemu-devel@nongnu.org qemu-stable@nongnu.org $xen_maint; do
        grep -qx "RCPT TO:<$m>" "$tmp/se.log" || missing="$missing $m"
    done
    [ -z "$missing" ] &&
        ok "git send-email --dry-run: $((n + 1)) mails, $rcpt recipients, qemu-devel, qemu-stable and the Xen maintainers among them" ||
        bad "git send-email --dry-run: never addresses$missing"
else
    bad "git send-email --dry-run refused the series"
    tail -n 20 "$tmp/se.log"
fi

# A maintainer's git am onto pristine QEMU.
git clone -q --shared --no-checkout "$WORK/qemu" "$tmp/am"
git -C "$tmp/am" checkout -q --detach pristine
if git -C "$tmp/am" -c user.name=maintainer -c user.email=m@localhost \
       am -q $(ls "$out"/v2-*.patch | grep -v cover-letter) > "$tmp/am.log" 2>&1; then
    authors=$(git -C "$tmp/am" log --format='%an <%ae>' pristine..HEAD | sort -u)
    count=$(git -C "$tmp/am" rev-list --count pristine..HEAD)
    [ "$count" = "$n" ] && [ "$authors" = "$sender_name <$sender_email>" ] &&
        ok "git am onto pristine QEMU $QEMU_VERSION: $count commits, all by $authors" ||
        bad "git am onto pristine: $count commits by $authors"
else
    bad "git am onto pristine QEMU $QEMU_VERSION failed"
    tail -n 20 "$tmp/am.log"
fi
exit $fail
