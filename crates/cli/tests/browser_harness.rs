//! The browser harness (tests/browser) drives a real headless Chromium: a page served
//! from this test is read, waited on, clicked, its console error seen and screenshotted.

mod browser;

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use browser::Browser;

const PAGE: &str = r#"<!doctype html>
<html>
<head><meta charset="utf-8"><title>Harness sanity</title></head>
<body>
<p id="later">before</p>
<p id="clicked">not clicked</p>
<button id="press" onclick="document.getElementById('clicked').innerText = 'clicked'">Press</button>
<script>
setTimeout(function () { document.getElementById('later').innerText = 'after'; }, 300);
console.error("boom");
</script>
</body>
</html>
"#;

/// Serves [`PAGE`] at `/` (and 204 elsewhere, so the favicon is no console error) on a
/// free local port; returns the page's URL.
fn serve() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the test server");
    let url = format!("http://{}/", listener.local_addr().expect("its address"));
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            // Chromium opens connections it may never use: one thread each.
            std::thread::spawn(move || answer(stream));
        }
    });
    url
}

fn answer(stream: TcpStream) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
    let mut reader = BufReader::new(&stream);
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => return,
            Ok(_) if header == "\r\n" || header == "\n" => break,
            Ok(_) => {}
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("");
    let response = if path == "/" {
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: \
             {}\r\nConnection: close\r\n\r\n{PAGE}",
            PAGE.len()
        )
    } else {
        "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n".to_owned()
    };
    let _ = (&stream).write_all(response.as_bytes());
}

#[test]
fn drives_a_page() {
    let url = serve();
    let b = Browser::start();
    b.goto(&url);

    assert_eq!(b.eval("return document.title"), "Harness sanity");
    assert_eq!(b.eval("return [window.innerWidth, window.innerHeight]")[0], 1920);

    let changed = b.wait_for(
        "const t = document.getElementById('later').innerText; return t === 'after' && t",
        Duration::from_secs(10),
    );
    assert_eq!(changed, "after");
    assert_eq!(b.text("#later"), "after");

    // A condition that never holds times out, with the last value in the panic.
    let timeout = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        b.wait_for("return document.title === 'elsewhere'", Duration::from_millis(200))
    }));
    let message = timeout.expect_err("wait_for on a false condition must time out");
    let message = message.downcast_ref::<String>().expect("a formatted panic message");
    assert!(message.contains("not true after") && message.contains("last: false"), "{message}");

    assert_eq!(b.text("#clicked"), "not clicked");
    b.click("#press");
    assert_eq!(b.text("#clicked"), "clicked");

    let errors = b.console_errors();
    assert_eq!(errors.len(), 1, "exactly the page's console.error: {errors:?}");
    assert!(errors[0].contains("boom"), "{errors:?}");
    // Reading the log again keeps what was read.
    assert_eq!(b.console_errors(), errors);

    let shot = browser::artifacts_dir().join("browser_harness.png");
    let _ = std::fs::remove_file(&shot);
    b.screenshot(&shot);
    let png = std::fs::read(&shot).expect("the screenshot was written");
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG: {:?}", &png[..png.len().min(16)]);
}

#[test]
fn sizes_the_window() {
    let url = serve();
    let b = Browser::with_size(800, 600);
    b.goto(&url);
    assert_eq!(b.eval("return window.innerWidth"), 800);
    let shot = browser::artifacts_dir().join("browser_harness_800x600.png");
    b.screenshot(&shot);
    let png = std::fs::read(&shot).expect("the screenshot was written");
    // The IHDR chunk's width, big-endian, right after the signature and chunk header.
    let width = u32::from_be_bytes(png[16..20].try_into().expect("an IHDR width"));
    assert_eq!(width, 800);
}
