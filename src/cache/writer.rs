//! The cache's writer thread: where the cache's long-lived allocations
//! (an entry's key, body block and `Entry`, moka's nodes) are made.
//!
//! glibc's allocator gives each thread its own arena. Made on the tokio
//! workers, the entries land between the request path's temporaries (the
//! upstream's raw answer, the parsed model, the serialised JSON, hyper's
//! buffers); when those are freed the holes they leave are too small or too
//! scattered to give back, and resident memory grows by several hundred
//! bytes per cached entry more than the entries need. Made on one thread
//! that does nothing else, they are packed in an arena of their own.
//! A job costs a channel round trip (microseconds), only on a cache write.

use std::panic::AssertUnwindSafe;
use std::sync::mpsc;

type Job = Box<dyn FnOnce() + Send>;

/// A handle on the writer thread (the thread ends when the last handle is dropped).
#[derive(Clone, Debug)]
pub(crate) struct Writer {
    jobs: Option<mpsc::Sender<Job>>,
}

impl Writer {
    /// Starts the thread (without it, jobs run on the caller's thread).
    pub(crate) fn start() -> Self {
        let (jobs, queue) = mpsc::channel::<Job>();
        let started = std::thread::Builder::new()
            .name("sog-cache-writer".into())
            .spawn(move || {
                for job in queue {
                    // A panicking job loses only its own answer (its caller
                    // then does the work itself).
                    let _ = std::panic::catch_unwind(AssertUnwindSafe(job));
                }
            });
        match started {
            Ok(_) => Self { jobs: Some(jobs) },
            Err(e) => {
                tracing::warn!(error = %e, "no cache writer thread: cache writes run on the request threads");
                Self { jobs: None }
            }
        }
    }

    /// Runs `job` on the writer thread and returns what it returns (None
    /// if it could not run there: the caller then runs it itself).
    pub(crate) async fn run<T, F>(&self, job: F) -> Option<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let jobs = self.jobs.as_ref()?;
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = answer.send(job());
        });
        jobs.send(job).ok()?;
        answered.await.ok()
    }
}
