#!/usr/bin/env bash
# Compile-time cost of #[requires_scope]: generated crates of 1,000 functions in 100 files
# (annotated; annotated with dingscope's `registry` feature, as in a test build; plain;
# plain with one added call, `std::hint::black_box(x)`, as the floor for any check; and
# with tracing's #[instrument]), with one-line bodies, and again (suffix 10) with ten-line
# bodies that do some work, and (suffix async) as `async fn`s that call the client and
# await it, the shape users write; each rebuilt clean in debug with its dependencies
# already built; the median of 5 builds each. Also times the manifest scan of the
# annotated crate. Prints a Markdown table (BENCHMARKS.md). `CRATES="plainasync
# annotatedasync"` measures some of them only.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
work="$root/target/compile-bench"
export CARGO_TARGET_DIR="$work/target"
mkdir -p "$work"

gen() { # name attribute dingscope-features body (one-line | one-call | ten-line)
  local dir="$work/$1" attr="$2" features="$3" body="$4"
  rm -rf "$dir/src"; mkdir -p "$dir/src"
  cat > "$dir/Cargo.toml" <<TOML
[package]
name = "bench-$1"
version = "0.0.0"
edition = "2024"
publish = false

[dependencies]
dingscope = { path = "$root/runtime", default-features = false, features = [$features] }
tracing = { version = "0.1", default-features = false, features = ["std", "attributes"] }
serde_json = "1"

[workspace]
TOML
  cp "$root/Cargo.lock" "$dir/Cargo.lock"
  : > "$dir/src/lib.rs"
  for f in $(seq 0 99); do
    echo "pub mod m$f;" >> "$dir/src/lib.rs"
    {
      for i in $(seq 0 9); do
        [ -n "$attr" ] && echo "$attr"
        if [ "$body" = one-line ]; then
          echo "pub fn f$i(x: u32) -> Result<u32, dingscope::Error> { Ok(x.wrapping_mul(3) + $i) }"
        elif [ "$body" = async-call ]; then
          cat <<RS
pub async fn f$i(corp: &dingscope::client::Principal, next: u32) -> Result<serde_json::Value, dingscope::Error> {
    corp.get("/v1.0/hrm/employees/dismissions")
        .query("nextToken", next + $i)
        .query("maxResults", 50)
        .send()
        .await
}
RS
        elif [ "$body" = one-call ]; then
          echo "pub fn f$i(x: u32) -> Result<u32, dingscope::Error> { std::hint::black_box(x); Ok(x.wrapping_mul(3) + $i) }"
        else
          cat <<RS
pub fn f$i(ids: &[u32], page: Option<u32>) -> Result<Vec<String>, dingscope::Error> {
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        match id % 3 {
            0 => out.push(format!("user{id}:{}", page.unwrap_or($i))),
            1 => out.push(id.to_string()),
            _ => out.extend(ids.iter().filter(|j| *j > id).map(|j| format!("{id}-{j}"))),
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}
RS
        fi
      done
    } > "$dir/src/m$f.rs"
  done
}

scope='#[dingscope::requires_scope("qyapi_hrm_read_user")]'
all="plain call annotated registry instrument plain10 annotated10 instrument10 plainasync annotatedasync instrumentasync"
crates="${CRATES:-$all}"
gen plain '' '' one-line
gen call '' '' one-call
gen annotated "$scope" '' one-line
gen registry "$scope" '"registry"' one-line
gen instrument '#[tracing::instrument]' '' one-line
gen plain10 '' '' ten-line
gen annotated10 "$scope" '' ten-line
gen instrument10 '#[tracing::instrument]' '' ten-line
gen plainasync '' '"client"' async-call
gen annotatedasync "$scope" '"client"' async-call
gen instrumentasync '#[tracing::instrument(skip(corp))]' '"client"' async-call

median() { sort -n | sed -n 3p; }
declare -A secs
for c in $crates; do
  (cd "$work/$c" && cargo build -q 2>/dev/null || cargo build)   # dependencies, once
  t=$(for _ in 1 2 3 4 5; do
        (cd "$work/$c" && cargo clean -q -p "bench-$c" && s=$(date +%s.%N) && cargo build -q && e=$(date +%s.%N) && echo "$e - $s" | bc)
      done | median)
  secs[$c]=$t
done
printf '| crate (1,000 functions, 100 files) | clean debug build | vs plain |\n|---|---:|---:|\n'
for c in $crates; do
  base=plain; [ "${c%10}" != "$c" ] && base=plain10; [ "${c%async}" != "$c" ] && base=plainasync
  printf '| %s | %.2f s | %.2f× |\n' "$c" "${secs[$c]}" "$(echo "${secs[$c]} / ${secs[$base]}" | bc -l)"
done
case " $crates " in *" annotated "*) ;; *) exit 0 ;; esac
(cd "$root" && cargo build -q -p dingscope-cli --bin dingscope)
scan=$(for _ in 1 2 3 4 5; do
         s=$(date +%s.%N); "$CARGO_TARGET_DIR/debug/dingscope" manifest --crate "$work/annotated" --format rust > /dev/null; e=$(date +%s.%N); echo "$e - $s" | bc
       done | median)

printf '\nmanifest scan of the annotated crate (debug `dingscope manifest`, whole process): %.3f s\n' "$scan"
