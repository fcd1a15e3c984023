//! The HTTP load generator: wrk (Debian's package), driven by a Lua script per
//! scenario, run as a separate process.

use std::path::Path;
use std::process::Command;

use anyhow::{bail, Context};

use crate::measure::Sample;

/// Installs wrk from Debian's packages when it is not on `PATH`.
pub fn ensure_installed() -> anyhow::Result<()> {
    let found = Command::new("wrk").arg("--version").output().is_ok();
    if found {
        return Ok(());
    }
    println!("wrk is missing: installing it with apt-get");
    for args in [
        &["update", "-qq"][..],
        &["install", "-y", "-qq", "--no-install-recommends", "wrk"][..],
    ] {
        let status = Command::new("apt-get")
            .args(args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .context("running apt-get to install wrk")?;
        if !status.success() {
            bail!("`apt-get {}` failed; install wrk by hand", args.join(" "));
        }
    }
    Ok(())
}

/// Runs wrk against `base` with `script` at `connections` for `seconds`.
pub fn run(
    base: &str,
    script: &str,
    connections: u32,
    seconds: u32,
    dir: &Path,
) -> anyhow::Result<Sample> {
    let path = dir.join("scenario.lua");
    std::fs::write(&path, script)?;
    let threads = connections.clamp(1, 2);
    let output = crate::session::own_session(&mut Command::new("wrk"))
        .args([
            "-t",
            &threads.to_string(),
            "-c",
            &connections.to_string(),
            "-d",
            &format!("{seconds}s"),
            "--latency",
            "--timeout",
            "10s",
            "-s",
        ])
        .arg(&path)
        .arg(base)
        .output()
        .context("running wrk (apt-get install wrk)")?;
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    if !output.status.success() {
        bail!(
            "wrk failed: {text}{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    if text.contains("Non-2xx or 3xx responses") {
        bail!("the scenario got error responses:\n{text}");
    }
    parse(&text).with_context(|| format!("unexpected wrk output:\n{text}"))
}

fn parse(text: &str) -> Option<Sample> {
    let mut sample = Sample::default();
    for line in text.lines() {
        let line = line.trim();
        if let Some(rate) = line.strip_prefix("Requests/sec:") {
            sample.rate = rate.trim().parse().ok()?;
        } else if let Some(p50) = line.strip_prefix("50%") {
            sample.p50_ms = duration_ms(p50.trim())?;
        } else if let Some(p99) = line.strip_prefix("99%") {
            sample.p99_ms = duration_ms(p99.trim())?;
        }
    }
    (sample.rate > 0.0).then_some(sample)
}

fn duration_ms(text: &str) -> Option<f64> {
    let split = text.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = text.split_at(split);
    let value: f64 = number.parse().ok()?;
    Some(match unit {
        "us" => value / 1000.0,
        "ms" => value,
        "s" => value * 1000.0,
        "m" => value * 60_000.0,
        _ => return None,
    })
}

/// A Lua script sending `method path` with a bearer key; `{id}` in the path or the
/// body is a random product id, `{cat}` a random category, and with `idempotent` each
/// request carries a fresh Idempotency-Key; `prefer` is sent as the `Prefer` header.
pub fn script(
    method: &str,
    path: &str,
    key: &str,
    body: Option<&str>,
    idempotent: bool,
    prefer: Option<&str>,
) -> String {
    let prefer = prefer
        .map(|p| format!(r#"headers["Prefer"] = "{p}""#))
        .unwrap_or_default();
    let body = body
        .map(|b| format!("[==[{b}]==]"))
        .unwrap_or_else(|| "nil".to_owned());
    format!(
        r#"
local counter = 0
local thread_tag = 0
setup = function(thread) end
init = function(args)
  math.randomseed(os.time() + tonumber(tostring({{}}):sub(8), 16) % 100000)
  thread_tag = math.random(1, 1000000000)
end
request = function()
  counter = counter + 1
  local id = tostring(math.random(1, 1000000))
  local cat = "cat" .. tostring(math.random(0, 49))
  local path = "{path}"
  path = path:gsub("{{id}}", id):gsub("{{cat}}", cat)
  local body = {body}
  if body then
    body = body:gsub("{{id}}", id):gsub("{{cat}}", cat)
  end
  local headers = {{}}
  headers["Authorization"] = "Bearer {key}"
  headers["Content-Type"] = "application/json"
  {prefer}
  if {idempotent} then
    headers["Idempotency-Key"] = "bench-" .. thread_tag .. "-" .. counter
  end
  return wrk.format("{method}", path, headers, body)
end
"#
    )
}
