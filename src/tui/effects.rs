//! What the console does outside its own screen: the clipboard, by OSC 52 so it works over
//! SSH and in tmux, and the browser, when the machine has one.

use std::io::Write as _;

use base64::Engine as _;

/// The loop's hands outside the terminal window. Tests pass one that records.
pub trait Effects: Send {
    /// Puts `text` on the clipboard of the terminal the analyst sits at.
    fn copy(&mut self, text: &str) -> Result<(), String>;
    /// Opens `url` in a browser.
    fn open(&mut self, url: &str) -> Result<(), String>;
}

/// The escape sequence that asks the terminal to set its clipboard. The text is base64, so
/// no byte of it can end the sequence early.
pub fn osc52(text: &str) -> String {
    let data = base64::engine::general_purpose::STANDARD.encode(text);
    format!("\x1b]52;c;{data}\x07")
}

/// The real terminal: OSC 52 on stdout, `xdg-open` or `open` for URLs.
pub struct Terminal;

impl Effects for Terminal {
    fn copy(&mut self, text: &str) -> Result<(), String> {
        let mut out = std::io::stdout().lock();
        out.write_all(osc52(text).as_bytes())
            .and_then(|()| out.flush())
            .map_err(|e| format!("the terminal refused the clipboard: {e}"))
    }

    fn open(&mut self, url: &str) -> Result<(), String> {
        let opener = if cfg!(target_os = "macos") {
            "open"
        } else if std::env::var_os("DISPLAY").is_some()
            || std::env::var_os("WAYLAND_DISPLAY").is_some()
        {
            "xdg-open"
        } else {
            return Err("no browser on this machine (over SSH?)".into());
        };
        let mut child = std::process::Command::new(opener)
            .arg(url)
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .map_err(|e| format!("{opener}: {e}"))?;
        // Reaped in the background: the browser may outlive the call by a long time.
        std::thread::spawn(move || child.wait());
        Ok(())
    }
}

/// No clipboard and no browser (tests and runs without a terminal).
pub struct NoEffects;

impl Effects for NoEffects {
    fn copy(&mut self, _text: &str) -> Result<(), String> {
        Err("no terminal to copy to".into())
    }

    fn open(&mut self, _url: &str) -> Result<(), String> {
        Err("no browser here".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn osc52_carries_the_text_as_base64() {
        assert_eq!(osc52("10.0.0.1"), "\x1b]52;c;MTAuMC4wLjE=\x07");
        // A hostile string cannot close the sequence: BEL and ESC are encoded away.
        let s = osc52("a\x07b\x1b]0;x");
        assert_eq!(s.matches('\x07').count(), 1);
        assert_eq!(s.matches('\x1b').count(), 1);
    }
}
