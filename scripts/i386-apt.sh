# Sourced by fetch-i386-guest.sh and build-i386.sh, which fetch Debian's
# i386 packages with an apt of their own: its state is in a folder, so the
# machine's dpkg gets no foreign architecture and its apt lists stay as
# they are.
# i386_apt DIR REPO...: the apt state in DIR for the repositories REPO
# ("URL SUITE COMPONENT"), signed by Debian's archive key; sets I386_APT,
# apt-get's options for it, and updates its lists (log: DIR/update.log).
# Fails as apt-get update does.
i386_apt() {
    local dir=$1 r
    shift
    mkdir -p "$dir/lists/partial" "$dir/archives/partial"
    touch "$dir/status"
    for r in "$@"; do
        echo "deb [arch=i386 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $r"
    done > "$dir/sources.list"
    I386_APT=(-o Dir::State="$dir" -o Dir::State::Lists="$dir/lists"
              -o Dir::State::status="$dir/status" -o Dir::Cache="$dir"
              -o Dir::Etc::SourceList="$dir/sources.list"
              -o Dir::Etc::SourceParts=/nonexistent
              -o APT::Architecture=i386 -o APT::Architectures::=i386
              -o APT::Sandbox::User=root)
    apt-get "${I386_APT[@]}" -q update > "$dir/update.log" 2>&1
}
