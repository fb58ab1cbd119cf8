//! The Threema Gateway emulator as a program, to try the Threema channel by hand against the
//! real server: it starts the emulator on `127.0.0.1`, prints the settings the server needs,
//! points the callback at `--callback URL`, and then plays one citizen: every line typed is
//! sent as an end-to-end encrypted Threema message; what the bot answers is printed.
//!
//! ```sh
//! cargo run -p sprechstunde-threema-emulator --bin threema-gateway-emulator -- \
//!     --callback http://127.0.0.1:8080/threema/callback
//! ```

use std::time::Duration;

use sprechstunde_threema_emulator::Gateway;
use tokio::io::{AsyncBufReadExt, BufReader};

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let mut callback = None;
    let mut citizen_id = "ECHOECHO".to_owned();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--callback" => callback = args.next(),
            "--citizen" => citizen_id = args.next().unwrap_or(citizen_id),
            _ => {
                eprintln!("usage: threema-gateway-emulator --callback URL [--citizen THREEMAID]");
                std::process::exit(2);
            }
        }
    }
    let Some(callback) = callback else {
        eprintln!("usage: threema-gateway-emulator --callback URL [--citizen THREEMAID]");
        std::process::exit(2);
    };
    let gateway = Gateway::start().await;
    gateway.set_callback(&callback);
    println!("# Start the server with:");
    println!("export SPRECHSTUNDE_THREEMA__ENABLED=true");
    println!("export SPRECHSTUNDE_THREEMA__API_URL={}", gateway.url());
    println!(
        "export SPRECHSTUNDE_THREEMA__GATEWAY_ID='{}'",
        gateway.gateway_id()
    );
    println!("export SPRECHSTUNDE_THREEMA__SECRET={}", gateway.secret());
    println!(
        "export SPRECHSTUNDE_THREEMA__PRIVATE_KEY=private:{}",
        gateway.private_key_hex()
    );
    println!("# Then type what the citizen {citizen_id} writes, one message per line.");
    let citizen = gateway.citizen(&citizen_id).await;
    let printer = {
        let citizen = citizen.clone();
        tokio::spawn(async move {
            loop {
                if let Some(message) = citizen.next_message(Duration::from_secs(3600)).await {
                    println!("<< {}\n", message.text.replace('\n', "\n   "));
                }
            }
        })
    };
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        if line.trim().is_empty() {
            continue;
        }
        let status = citizen.send_text(&line).await;
        println!(">> sent (callback answered {status})");
    }
    printer.abort();
}
