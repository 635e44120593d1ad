/*
 * Writes (and deletions) as root must not be redirected by another user:
 * not through a symlink of theirs on the way, not by swapping a name in a
 * folder they can write. So every script that writes starts with `enter`:
 * it walks to the folder, makes it the working folder (`cd -P`: the folder
 * itself, whatever is renamed above it afterwards), and checks with one
 * `stat`, after the cd, every name on the way as written (the last one
 * included), every folder of the resolved way, and `.` itself:
 * - every name must be root's or this user's (another user's link is never
 *   followed: it could point anywhere, and be swapped at any time);
 * - a folder on the way must not be writable by others unless sticky
 *   (`/tmp`: there nobody else can rename or remove our names);
 * - the working folder by what the write does (KIND): `replace` (a fresh
 *   mktemp name, then a rename) may go into a sticky folder; `append` never
 *   (it would open whatever another user put at the name); `own` (we
 *   delete there) and `private` (the history: not a link either, exit 12)
 *   need a folder of this user's alone.
 * Only root or this user could change such a way, so what was checked is
 * what is used. Missing folders are made one name at a time inside the
 * checked one, never through `mkdir -p` (which follows any link). Then the
 * scripts use names relative to the working folder. Refusals exit 14 with
 * one line on stderr; a folder that must exist and does not, 13.
 * Arguments: enter DIR MAKE_MODE KIND UID (MAKE_MODE '' = must exist).
 */
export const ENTER_FOLDER = `refuse() { printf 'refused: %s\\n' "$1" >&2; exit 14; }
enter() {
  e_dir=$1 e_make=$2 e_kind=$3 e_me=$4
  # A relative cd would look in CDPATH first.
  unset CDPATH
  case $e_dir in /*) ;; *) refuse 'not an absolute path';; esac
  e_have=$e_dir e_rest=
  while [ ! -e "$e_have" ] && [ ! -L "$e_have" ]; do
    [ -n "$e_make" ] || exit 13
    e_rest="/\${e_have##*/}$e_rest"
    e_have=\${e_have%/*}
    [ -n "$e_have" ] || e_have=/
  done
  e_ifs=$IFS
  # Every name as written, the last included; then every folder of the resolved way but the last,
  # which is "." (the working folder itself, by what cd -P entered, not by a name).
  set -f; IFS=/; set --; e_p=
  for e_n in $e_have; do [ -n "$e_n" ] || continue; e_p=$e_p/$e_n; set -- "$@" "$e_p"; done
  e_written=$#
  IFS=$e_ifs; set +f
  cd -P -- "$e_have" 2>/dev/null || refuse "$e_have is not a folder this user can enter"
  # A folder name may end in a newline, which $(...) would strip: an x after pwd's own newline keeps it.
  e_real=$(pwd -P; printf x); e_real=\${e_real%x}; e_real=\${e_real%?}
  set -f; IFS=/; e_p=
  for e_n in $e_real; do [ -n "$e_n" ] || continue; [ -z "$e_p" ] || set -- "$@" "$e_p"; e_p=$e_p/$e_n; done
  IFS=$e_ifs; set +f
  # Sample line: '0 41ed' (owner uid, raw mode in hex: a folder, 0755).
  e_st=$(stat -c '%u %f' -- / "$@" .) || refuse 'a name on the way could not be examined'
  e_i=0 e_dot=$(($# + 1)) e_wtype=16384
  while read -r e_u e_m; do
    e_mode=$((0x$e_m)); e_type=$((e_mode & 61440))
    if [ $e_i = $e_dot ]; then e_lu=$e_u e_lm=$e_mode; break; fi
    if [ $e_i = 0 ]; then e_name=/; else eval "e_name=\\\${$e_i}"; fi
    # Our private folder itself another user's: exit 12, as below.
    [ "$e_u" = 0 ] || [ "$e_u" = "$e_me" ] || { [ "$e_kind" = private ] && [ $e_i = $e_written ] && [ -z "$e_rest" ] && exit 12; } ||
      refuse "$e_name belongs to uid $e_u (only root's or this user's names are followed)"
    case $e_type in
      40960) ;;
      # The last name as written is the working folder (judged below) or a link to it.
      16384) [ $e_i = $e_written ] || [ $((e_mode & 18)) = 0 ] || [ $((e_mode & 512)) != 0 ] || refuse "$e_name is writable by others";;
      *) refuse "$e_name is not a folder";;
    esac
    [ $e_i != $e_written ] || e_wtype=$e_type
    e_i=$((e_i + 1))
  done <<EOF
$e_st
EOF
  # The working folder: root's or ours. Where we make folders, others may write it only if it is sticky
  # (they cannot take our names there). A replace may go into a sticky folder too (a fresh mktemp name,
  # then a rename); an append never does (it would open whatever another user put at the name); we
  # delete only in a folder of our own; our private folder (the history) is ours alone and not a link
  # (exit 12: only this tool may write there).
  [ "$e_lu" = 0 ] || [ "$e_lu" = "$e_me" ] || refuse "$e_real belongs to uid $e_lu"
  e_others=$((e_lm & 18)) e_sticky=$((e_lm & 512))
  if [ -n "$e_rest" ]; then
    [ $e_others = 0 ] || [ $e_sticky != 0 ] || refuse "$e_real is writable by others"
  else
    case $e_kind in
      replace) [ $e_others = 0 ] || [ $e_sticky != 0 ] || refuse "$e_real is writable by others";;
      append) [ $e_others = 0 ] || refuse "$e_real is writable by others";;
      own) [ "$e_lu" = "$e_me" ] && [ $e_others = 0 ] || refuse "$e_real is not this user's alone";;
      private) [ "$e_lu" = "$e_me" ] && [ $e_others = 0 ] && [ $e_wtype = 16384 ] || exit 12;;
      *) refuse "no such kind: $e_kind";;
    esac
    return 0
  fi
  # The missing names, made one at a time: the last with the mode asked for, those before it 0755 (as mkdir -p).
  set -f; IFS=/; set -- $e_rest; IFS=$e_ifs; set +f
  while [ $# -gt 0 ]; do
    e_n=$1; shift
    [ -n "$e_n" ] || continue
    e_mk=0755; [ $# -gt 0 ] || e_mk=$e_make
    if mkdir -m "$e_mk" -- "./$e_n" 2>/dev/null; then :
    elif [ -e "./$e_n" ] || [ -L "./$e_n" ]; then
      # Made meanwhile, by another run of ours or by someone else: only our own is entered.
      [ -d "./$e_n" ] && [ ! -L "./$e_n" ] || refuse "$e_n is not a folder"
      e_st=$(stat -c '%u %f' -- "./$e_n") || exit 1
      e_u=\${e_st%% *} e_mode=$((0x\${e_st#* }))
      [ "$e_u" = "$e_me" ] && [ $((e_mode & 18)) = 0 ] || refuse "$e_n was made meanwhile by uid $e_u, or is writable by others"
    else
      mkdir -m "$e_mk" -- "./$e_n" || exit 1
    fi
    cd -P -- "./$e_n" || exit 1
  done
}`;

/**
 * The folder as `enter` walks it: absolute, by prefixing the working folder
 * (getcwd's own, physical) to a relative one, with no textual clean-up
 * (`a/link/..` is not `a` once links are followed).
 */
export function walkable(dir: string): string {
  return dir.startsWith('/') ? dir : `${process.cwd()}/${dir}`;
}

/** This process's effective uid: what `enter` and the lock folder compare owners with. */
export function effectiveUid(): number {
  return process.geteuid?.() ?? 0;
}

/*
 * Replace "$name" in the working folder with stdin, atomically: a temporary
 * file made by mktemp (O_CREAT|O_EXCL, mode 0600: never an existing name,
 * never through a link; its name is nowhere another user can read it
 * first), then 0644, then rename(2) over the name. In a checked folder no
 * other user can replace the temporary name (they cannot write there, or it
 * is sticky and the name is ours), so chmod and the write reach our file. A
 * reader sees the old file or the new one, never a part of one; a failed
 * write (ENOSPC) keeps the old file and removes the temporary one. Expects
 * $name.
 */
export const REPLACE_FROM_STDIN = `tmp=$(mktemp -- "./.$name.XXXXXXXXXXXX") || exit 1
if cat > "$tmp" && chmod 644 -- "$tmp" && mv -f -T -- "$tmp" "$name"; then printf 'written\\n'; exit 0; fi
rm -f -- "$tmp"
exit 1`;

/** Refuse a symlink (exit 10) or anything but a regular file (exit 11) at "$name" in the working folder. */
export const REFUSE_NOT_REGULAR = `[ -L "$name" ] && exit 10
[ -e "$name" ] && [ ! -f "$name" ] && exit 11`;
