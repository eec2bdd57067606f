//! A `TestBackend` that publishes the screen after every frame, so an end-to-end test can wait
//! for text to appear instead of sleeping.

use std::convert::Infallible;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use ratatui::backend::{Backend, ClearType, TestBackend, WindowSize};
use ratatui::buffer::Cell;
use ratatui::layout::{Position, Size};
use tokio::sync::watch;

pub struct WatchedBackend {
    inner: TestBackend,
    screen: watch::Sender<String>,
    /// Frames flushed so far: how an idle test sees that nothing was redrawn.
    pub frames: Arc<AtomicUsize>,
    /// Whole-screen clears so far: how a test sees a redraw that assumes nothing.
    pub clears: Arc<AtomicUsize>,
}

impl WatchedBackend {
    pub fn new(width: u16, height: u16) -> (Self, watch::Receiver<String>) {
        let (tx, rx) = watch::channel(String::new());
        (
            Self {
                inner: TestBackend::new(width, height),
                screen: tx,
                frames: Arc::new(AtomicUsize::new(0)),
                clears: Arc::new(AtomicUsize::new(0)),
            },
            rx,
        )
    }
}

impl Backend for WatchedBackend {
    type Error = Infallible;

    fn draw<'a, I: Iterator<Item = (u16, u16, &'a Cell)>>(
        &mut self,
        content: I,
    ) -> Result<(), Infallible> {
        self.inner.draw(content)
    }
    fn hide_cursor(&mut self) -> Result<(), Infallible> {
        self.inner.hide_cursor()
    }
    fn show_cursor(&mut self) -> Result<(), Infallible> {
        self.inner.show_cursor()
    }
    fn get_cursor_position(&mut self) -> Result<Position, Infallible> {
        self.inner.get_cursor_position()
    }
    fn set_cursor_position<P: Into<Position>>(&mut self, position: P) -> Result<(), Infallible> {
        self.inner.set_cursor_position(position)
    }
    fn clear(&mut self) -> Result<(), Infallible> {
        self.clears.fetch_add(1, Ordering::SeqCst);
        self.inner.clear()
    }
    fn clear_region(&mut self, clear_type: ClearType) -> Result<(), Infallible> {
        if clear_type == ClearType::All {
            self.clears.fetch_add(1, Ordering::SeqCst);
        }
        self.inner.clear_region(clear_type)
    }
    fn size(&self) -> Result<Size, Infallible> {
        self.inner.size()
    }
    fn window_size(&mut self) -> Result<WindowSize, Infallible> {
        self.inner.window_size()
    }
    fn flush(&mut self) -> Result<(), Infallible> {
        self.inner.flush()?;
        self.frames.fetch_add(1, Ordering::SeqCst);
        self.screen
            .send_replace(super::screen_text(self.inner.buffer()));
        Ok(())
    }
}
