//! A real ClickHouse server (Debian's `clickhouse-server`) on free ports in a temp
//! dir, with its HTTP interface for the vault's `clickhouse` engine.

use std::process::{Child, Command, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::pg::free_port;
use super::procs;

/// A running ClickHouse.
pub struct TestClickHouse {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    child: Mutex<Option<Child>>,
}

impl TestClickHouse {
    /// Starts ClickHouse; panics with its log if it cannot.
    pub fn start() -> Self {
        let binary = ["/usr/sbin/clickhouse-server", "/usr/bin/clickhouse-server"]
            .into_iter()
            .find(|p| std::path::Path::new(p).exists())
            .expect("clickhouse-server must be installed (cargo xtask test installs it)");
        let dir = super::temp_dir("clickhouse");
        let d = dir.display();
        let (http, tcp) = (free_port(), free_port());
        std::fs::write(
            dir.join("users.xml"),
            "<yandex>
  <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>::1</ip><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time></interval></default></quotas>
</yandex>",
        )
        .unwrap();
        std::fs::write(
            dir.join("config.xml"),
            format!(
                "<yandex>
  <logger><level>warning</level><log>{d}/server.log</log><errorlog>{d}/error.log</errorlog></logger>
  <http_port>{http}</http_port>
  <tcp_port>{tcp}</tcp_port>
  <listen_host>127.0.0.1</listen_host>
  <path>{d}/data/</path>
  <tmp_path>{d}/tmp/</tmp_path>
  <user_files_path>{d}/user_files/</user_files_path>
  <format_schema_path>{d}/format_schemas/</format_schema_path>
  <users_config>{d}/users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>268435456</mark_cache_size>
  <max_concurrent_queries>100</max_concurrent_queries>
</yandex>"
            ),
        )
        .unwrap();
        let out = std::fs::File::create(dir.join("stdout.log")).unwrap();
        let mut command = Command::new(binary);
        command
            .arg(format!(
                "--config-file={}",
                dir.join("config.xml").display()
            ))
            .current_dir(&dir)
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .stdin(Stdio::null());
        let child = procs::spawn(command).expect("spawn clickhouse-server");
        let url = format!("http://127.0.0.1:{http}");
        let started = Instant::now();
        loop {
            if std::net::TcpStream::connect(("127.0.0.1", http)).is_ok() {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "clickhouse did not start:\n{}\n{}",
                std::fs::read_to_string(dir.join("stdout.log")).unwrap_or_default(),
                std::fs::read_to_string(dir.join("error.log")).unwrap_or_default()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            url,
            child: Mutex::new(Some(child)),
        }
    }
}

impl Drop for TestClickHouse {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.lock().unwrap().take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
