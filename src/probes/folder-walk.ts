import { randomBytes } from 'node:crypto';

/*
 * Writes (and deletions) as root must not be redirected by another user:
 * not through a symlink of theirs on the way, not by swapping a name in a
 * folder they can write. So every script that writes starts with `enter`:
 * it walks to the folder, makes it the working folder (`cd -P`: the folder
 * itself, whatever is renamed above it afterwards), and checks every name
 * on the way, as written and as resolved, with one `stat`:
 * - a symbolic link must be root's or this user's (another user's is never
 *   followed: it could point anywhere);
 * - a folder must be root's or this user's, and not writable by others
 *   unless sticky (`/tmp`: there nobody else can rename our names);
 * - the folder written in must be writable by nobody else, sticky or not,
 *   and, where we make or delete our own files (`own`), this user's.
 * Only root or this user could change such a way, so what was checked is
 * what is used. Missing folders are made one name at a time inside the
 * checked one, never through `mkdir -p` (which follows any link). Then the
 * scripts use names relative to the working folder. Refusals exit 14 with
 * one line on stderr; a folder that must exist and does not, 13.
 * Arguments: enter DIR MAKE_MODE KIND UID (MAKE_MODE '' = must exist;
 * KIND shared | own).
 */
export const ENTER_FOLDER = `refuse() { printf 'refused: %s\\n' "$1" >&2; exit 14; }
enter() {
  e_dir=$1 e_make=$2 e_kind=$3 e_me=$4
  case $e_dir in /*) ;; *) refuse 'not an absolute path';; esac
  e_have=$e_dir e_rest=
  while [ ! -e "$e_have" ] && [ ! -L "$e_have" ]; do
    [ -n "$e_make" ] || exit 13
    e_rest="/\${e_have##*/}$e_rest"
    e_have=\${e_have%/*}
    [ -n "$e_have" ] || e_have=/
  done
  e_ifs=$IFS
  set -f; IFS=/; set --; e_p=
  # Each name as written; the last only when it is a link (else it is the working folder, judged below).
  for e_n in $e_have; do [ -n "$e_n" ] || continue; [ -z "$e_p" ] || set -- "$@" "$e_p"; e_p=$e_p/$e_n; done
  [ -n "$e_p" ] && [ -L "$e_p" ] && set -- "$@" "$e_p"
  IFS=$e_ifs; set +f
  cd -P -- "$e_have" 2>/dev/null || refuse "$e_have is not a folder this user can enter"
  # A folder name may end in a newline, which $(...) would strip: an x after pwd's own newline keeps it.
  e_real=$(pwd -P; printf x); e_real=\${e_real%x}; e_real=\${e_real%?}
  set -f; IFS=/; e_p=
  for e_n in $e_real; do [ -n "$e_n" ] || continue; e_p=$e_p/$e_n; set -- "$@" "$e_p"; done
  IFS=$e_ifs; set +f
  # Sample line: '0 41ed' (owner uid, raw mode in hex: a folder, 0755).
  e_st=$(stat -c '%u %f' -- / "$@") || refuse 'a name on the way could not be examined'
  e_i=0 e_last=$#
  while read -r e_u e_m; do
    if [ $e_i = 0 ]; then e_name=/; else eval "e_name=\\\${$e_i}"; fi
    e_i=$((e_i + 1))
    e_mode=$((0x$e_m))
    e_lu=$e_u e_lm=$e_mode
    # The last line, the working folder itself, is judged below.
    [ $e_i -le $e_last ] || continue
    [ "$e_u" = 0 ] || [ "$e_u" = "$e_me" ] || refuse "$e_name belongs to uid $e_u (only root's or this user's names are followed)"
    case $((e_mode & 61440)) in
      40960) ;;
      16384) [ $((e_mode & 18)) = 0 ] || [ $((e_mode & 512)) != 0 ] || refuse "$e_name is writable by others";;
      *) refuse "$e_name is not a folder";;
    esac
  done <<EOF
$e_st
EOF
  # The working folder itself (or /): root's or ours, and writable by nobody else, or sticky (there
  # nobody else can rename or remove our names). Our own folder (the history, where we delete) is
  # ours alone and not a link (exit 12: only this tool may write there).
  e_sticky=$((e_lm & 512))
  if [ "$e_kind" = own ] && [ -z "$e_rest" ]; then
    [ "$e_lu" = "$e_me" ] && [ $((e_lm & 18)) = 0 ] && [ ! -L "$e_dir" ] || exit 12
  fi
  [ "$e_lu" = 0 ] || [ "$e_lu" = "$e_me" ] || refuse "$e_real belongs to uid $e_lu"
  [ $((e_lm & 18)) = 0 ] || [ $e_sticky != 0 ] || refuse "$e_real is writable by others"
  [ -n "$e_rest" ] || return 0
  # The missing names, made one at a time: the last with the mode asked for, those before it 0755 (as mkdir -p).
  set -f; IFS=/; set -- $e_rest; IFS=$e_ifs; set +f
  while [ $# -gt 0 ]; do
    e_n=$1; shift
    [ -n "$e_n" ] || continue
    e_mk=0755; [ $# -gt 0 ] || e_mk=$e_make
    if mkdir -m "$e_mk" -- "$e_n" 2>/dev/null; then :
    elif [ -e "$e_n" ] || [ -L "$e_n" ]; then
      # Made meanwhile, by another run of ours or by someone else: only our own is entered.
      [ -d "$e_n" ] && [ ! -L "$e_n" ] || refuse "$e_n is not a folder"
      e_st=$(stat -c '%u %f' -- "$e_n") || exit 1
      e_u=\${e_st%% *} e_mode=$((0x\${e_st#* }))
      [ "$e_u" = "$e_me" ] && [ $((e_mode & 18)) = 0 ] || refuse "$e_n was made meanwhile by uid $e_u, or is writable by others"
    else
      mkdir -m "$e_mk" -- "$e_n" || exit 1
    fi
    cd -P -- "$e_n" || exit 1
  done
}`;

/** This process's effective uid, as `enter` compares owners with. */
export function effectiveUid(): string {
  return String(process.geteuid?.() ?? 0);
}

/** A name for a temporary file nobody can guess: `.<name>.<16 hex>`. */
export function temporaryName(name: string): string {
  return `.${name}.${randomBytes(8).toString('hex')}`;
}

/*
 * Replace "$name" in the working folder with stdin, atomically: a temporary
 * file made with O_EXCL (`set -C`: never an existing name, never through a
 * link) and mode 0644 from the umask (no chmod that could follow a link),
 * then rename(2) over the name. A reader sees the old file or the new one,
 * never a part of one; a failed write (ENOSPC) keeps the old file and
 * removes the temporary one, which only we made. Expects $name and $tmp.
 */
export const REPLACE_FROM_STDIN = `umask 022
set -C
exec 3> "$tmp" || exit 1
set +C
if cat >&3 && exec 3>&- && mv -f -T -- "$tmp" "$name"; then printf 'written\\n'; exit 0; fi
rm -f -- "$tmp"
exit 1`;

/** Refuse a symlink (exit 10) or anything but a regular file (exit 11) at "$name" in the working folder. */
export const REFUSE_NOT_REGULAR = `[ -L "$name" ] && exit 10
[ -e "$name" ] && [ ! -f "$name" ] && exit 11`;
