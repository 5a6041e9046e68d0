//! argon2id hashing on a dedicated pool of worker threads, never on the async
//! executor.
//!
//! - Bounded: `hash_concurrency` threads; further jobs wait in a queue of at
//!   most `hash_queue_max` jobs. A job that would wait past it is refused at
//!   once with [`AppError::Overloaded`] (503, `Retry-After`), before any
//!   hashing: under a log-in flood callers get a fast "retry later" instead of
//!   a queue that grows until their requests time out.
//! - Reads first: the workers run at a lower CPU priority (nice +10), so a
//!   log-in flood takes the cores only when nothing else wants them and reads
//!   stay responsive.
//! - Bounded memory: each worker keeps one 19 MiB block buffer for all its
//!   hashes instead of allocating one per hash (which fragments the heap and
//!   left the process at hundreds of MiB after a flood).
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};
use std::time::Instant;

use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use rand::RngCore;
use tokio::sync::{OnceCell, oneshot};

use crate::error::{AppError, AppResult};
use crate::metrics::Metrics;

/// OWASP minimum for argon2id: m=19 MiB, t=2, p=1.
const M_COST_KIB: u32 = 19_456;
const T_COST: u32 = 2;
const P_COST: u32 = 1;
const SALT_BYTES: usize = 16;
const OUTPUT_BYTES: usize = 32;
/// Longer passwords are refused before hashing (long-password DoS).
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// CPU priority of the hashing threads (Linux nice value, per thread).
const WORKER_NICE: i32 = 10;
const DUMMY_PASSWORD: &str = "authgraph-dummy-password-for-unknown-users";

type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

/// Hashes and verifies passwords. Cheap to clone.
#[derive(Clone)]
pub struct PasswordService {
    jobs: mpsc::Sender<Job>,
    dummy_hash: Arc<OnceCell<String>>,
    metrics: Metrics,
    queue: Arc<Queue>,
}

/// The admission count of the queue: jobs admitted that no worker took yet.
struct Queue {
    waiting: AtomicUsize,
    max: usize,
}

/// A place in the queue, given back when a worker takes the job (or when the
/// job is dropped unsent).
struct Place(Arc<Queue>);

impl Drop for Place {
    fn drop(&mut self) {
        self.0.waiting.fetch_sub(1, Ordering::AcqRel);
    }
}

fn params() -> Params {
    Params::new(M_COST_KIB, T_COST, P_COST, Some(OUTPUT_BYTES))
        .expect("static argon2 params are valid")
}

/// A new argon2id PHC string, computed in `memory`.
fn hash_with(memory: &mut Vec<Block>, password: &[u8]) -> anyhow::Result<String> {
    let params = params();
    let mut salt = [0u8; SALT_BYTES];
    rand::rng().fill_bytes(&mut salt);
    let mut out = [0u8; OUTPUT_BYTES];
    fill(memory, params.block_count());
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password, &salt, &mut out, &mut memory[..])
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?;
    let phc = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(&params).map_err(|e| anyhow::anyhow!("argon2: {e}"))?,
        salt: Some(Salt::new(&salt).map_err(|e| anyhow::anyhow!("argon2: {e}"))?),
        hash: Some(Output::new(&out).map_err(|e| anyhow::anyhow!("argon2: {e}"))?),
    };
    Ok(phc.to_string())
}

/// Whether `password` matches the PHC string `stored` (argon2 of any variant
/// and parameters it names), computed in `memory`. Unparsable hashes never match.
fn verify_with(memory: &mut Vec<Block>, password: &[u8], stored: &str) -> bool {
    // Imported hashes (bcrypt, Firebase scrypt) are checked by their own algorithm.
    if crate::auth::legacy::scheme(stored).is_some() {
        return crate::auth::legacy::verify(password, stored);
    }
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(parsed.algorithm.as_str()) else {
        return false;
    };
    let version = match parsed.version.map(Version::try_from).transpose() {
        Ok(v) => v.unwrap_or_default(),
        Err(_) => return false,
    };
    let Ok(params) = Params::try_from(&parsed) else {
        return false;
    };
    // Refuse absurd stored parameters rather than allocate for them.
    if params.m_cost() > 1 << 18 {
        return false;
    }
    fill(memory, params.block_count());
    let mut out = vec![0u8; expected.len()];
    Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, salt.as_ref(), &mut out, &mut memory[..])
        .is_ok()
        && crate::auth::keys::ct_eq_bytes(&out, expected.as_bytes())
}

/// Whether `stored` is an argon2id hash with today's parameters; any other
/// (imported, or older parameters) is replaced at the next successful log-in.
pub fn is_current(stored: &str) -> bool {
    stored
        .strip_prefix("$argon2id$v=19$")
        .and_then(|rest| rest.split('$').next())
        .is_some_and(|p| p == format!("m={M_COST_KIB},t={T_COST},p={P_COST}"))
}

/// Makes `memory` exactly `blocks` long, reusing its allocation.
fn fill(memory: &mut Vec<Block>, blocks: usize) {
    memory.resize(blocks, Block::default());
    memory.shrink_to(blocks.max(params().block_count()));
}

fn lower_priority() {
    // On Linux, `setpriority(PRIO_PROCESS, 0, …)` sets the calling thread's
    // nice value. Failing leaves the default priority: hashing still works.
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::process::setpriority_process(None, WORKER_NICE) {
        tracing::debug!(error = %e, "could not lower the hashing threads' priority");
    }
}

impl PasswordService {
    /// Starts `workers` hashing threads, admitting at most `queue_max` jobs
    /// waiting for them, reporting the queue to `metrics`.
    pub fn new(workers: usize, queue_max: usize, metrics: Metrics) -> anyhow::Result<Self> {
        let (tx, rx) = mpsc::channel::<Job>();
        let rx = Arc::new(Mutex::new(rx));
        for i in 0..workers.max(1) {
            let rx = rx.clone();
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || {
                    lower_priority();
                    let mut memory = Vec::new();
                    loop {
                        let job = match rx.lock() {
                            Ok(rx) => rx.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(&mut memory),
                            // Every sender is gone: the service was dropped.
                            Err(_) => return,
                        }
                    }
                })?;
        }
        Ok(Self {
            jobs: tx,
            dummy_hash: Arc::new(OnceCell::new()),
            metrics,
            queue: Arc::new(Queue {
                waiting: AtomicUsize::new(0),
                max: queue_max,
            }),
        })
    }

    /// A place in the queue, or `Overloaded` when it is full. Taken before
    /// anything is hashed, and the same for every caller whatever its
    /// password or account, so a refusal tells nothing about an account.
    fn admit(&self) -> AppResult<Place> {
        let max = self.queue.max;
        let admitted = self
            .queue
            .waiting
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < max).then_some(n + 1)
            });
        match admitted {
            Ok(_) => Ok(Place(self.queue.clone())),
            Err(_) => {
                self.metrics.hash_refused();
                Err(AppError::Overloaded)
            }
        }
    }

    async fn run<T: Send + 'static>(
        &self,
        place: Place,
        job: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static,
    ) -> AppResult<T> {
        let (tx, rx) = oneshot::channel();
        let (metrics, queued) = (self.metrics.clone(), Instant::now());
        self.metrics.hash_queued();
        self.jobs
            .send(Box::new(move |memory| {
                let started = Instant::now();
                drop(place);
                metrics.hash_started(started - queued);
                // The request gave up while the job waited (its client went
                // away): nobody is left to answer, so the job is not worth
                // a worker's time while the queue is long.
                if tx.is_closed() {
                    return;
                }
                let done = job(memory);
                metrics.hash_done(started.elapsed());
                let _ = tx.send(done);
            }))
            .map_err(|_| AppError::internal(anyhow::anyhow!("the hashing workers stopped")))?;
        rx.await
            .map_err(|_| AppError::internal(anyhow::anyhow!("a hashing worker failed")))
    }

    /// Returns the PHC string of a new argon2id hash.
    pub async fn hash(&self, password: &str) -> AppResult<String> {
        let place = self.admit()?;
        let password = password.to_owned();
        self.run(place, move |memory| hash_with(memory, password.as_bytes()))
            .await?
            .map_err(AppError::internal)
    }

    /// The hash that unknown users are checked against; computed once, in the
    /// background at start (`warm_up`) or by the first log-in that needs it.
    /// It is computed outside the workers, in memory that is freed at once, so
    /// an idle server holds no hashing buffer.
    async fn dummy_hash(&self) -> AppResult<&str> {
        self.dummy_hash
            .get_or_try_init(|| async {
                tokio::task::spawn_blocking(|| {
                    hash_with(&mut Vec::new(), DUMMY_PASSWORD.as_bytes())
                })
                .await
                .map_err(AppError::internal)?
                .map_err(AppError::internal)
            })
            .await
            .map(String::as_str)
    }

    /// Computes the dummy hash ahead of the first log-in.
    pub async fn warm_up(&self) -> AppResult<()> {
        self.dummy_hash().await.map(|_| ())
    }

    /// Checks a password against a stored hash, or against the dummy hash when
    /// there is no user, so both cases cost the same time and are admitted
    /// to the queue alike (admission comes first, before the dummy hash).
    pub async fn verify(&self, password: &str, stored: Option<&str>) -> AppResult<bool> {
        let place = self.admit()?;
        let password = password.to_owned();
        let exists = stored.is_some();
        let hash = match stored {
            Some(h) => h.to_owned(),
            None => self.dummy_hash().await?.to_owned(),
        };
        let ok = self
            .run(place, move |memory| {
                verify_with(memory, password.as_bytes(), &hash)
            })
            .await?;
        Ok(ok && exists)
    }
}

#[cfg(test)]
mod tests {
    /// Keeps a worker busy until a unit is sent on the returned channel; the
    /// task answers `true` once released.
    async fn hold_the_worker(
        service: &PasswordService,
    ) -> (
        tokio::task::JoinHandle<AppResult<bool>>,
        std::sync::mpsc::Sender<()>,
    ) {
        let (release, released) = std::sync::mpsc::channel::<()>();
        let (started, on_start) = oneshot::channel::<()>();
        let busy = tokio::spawn({
            let service = service.clone();
            let job = move |_: &mut Vec<Block>| {
                let _ = started.send(());
                released.recv().is_ok()
            };
            async move { service.run(service.admit()?, job).await }
        });
        on_start.await.unwrap();
        (busy, release)
    }

    #[tokio::test]
    async fn a_job_whose_request_gave_up_while_it_waited_is_skipped() {
        use std::sync::atomic::{AtomicBool, Ordering};
        let service = PasswordService::new(1, 8, Metrics::new()).unwrap();
        // The only worker is busy until released.
        let (busy, release) = hold_the_worker(&service).await;
        let ran = Arc::new(AtomicBool::new(false));
        let flag = ran.clone();
        let place = service.admit().unwrap();
        let abandoned = service.run(place, move |_| flag.store(true, Ordering::SeqCst));
        // Queued, then given up on (a request future dropped by a disconnect).
        let waited = tokio::time::timeout(std::time::Duration::from_millis(100), abandoned).await;
        assert!(waited.is_err(), "the worker was busy");
        release.send(()).unwrap();
        assert!(busy.await.unwrap().unwrap());
        // The worker takes jobs in order: once a later one is done, the
        // abandoned one was taken and skipped.
        service.run(service.admit().unwrap(), |_| ()).await.unwrap();
        assert!(!ran.load(Ordering::SeqCst));
    }

    #[tokio::test]
    async fn past_the_queue_bound_jobs_are_refused_unhashed_until_it_drains() {
        let metrics = Metrics::new();
        let service = PasswordService::new(1, 1, metrics.clone()).unwrap();
        let (busy, release) = hold_the_worker(&service).await;
        // The worker is taken, which frees its place: one job may wait.
        let waiting = tokio::spawn({
            let service = service.clone();
            async move { service.hash("queued and admitted").await }
        });
        while service.queue.waiting.load(Ordering::Acquire) == 0 {
            tokio::task::yield_now().await;
        }
        // Known or unknown account: refused alike, before any hashing.
        assert!(matches!(
            service.hash("one too many").await,
            Err(AppError::Overloaded)
        ));
        assert!(matches!(
            service.verify("one too many", None).await,
            Err(AppError::Overloaded)
        ));
        let text = metrics.render(Default::default(), false);
        assert!(
            text.contains("authgraph_password_hash_refused_total 2"),
            "{text}"
        );
        release.send(()).unwrap();
        assert!(busy.await.unwrap().unwrap());
        assert!(waiting.await.unwrap().is_ok());
        // Drained: admitted again.
        assert!(service.hash("after the flood").await.is_ok());
        assert_eq!(service.queue.waiting.load(Ordering::Acquire), 0);
    }

    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_with_owasp_parameters_and_verify() {
        let svc = PasswordService::new(2, 16, Metrics::new()).unwrap();
        let hash = svc.hash("correct horse battery").await.unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(
            svc.verify("correct horse battery", Some(&hash))
                .await
                .unwrap()
        );
        assert!(!svc.verify("wrong", Some(&hash)).await.unwrap());
        // Hashes made by the argon2 crate's own encoder verify too, and ours
        // verify with its verifier: the PHC strings are the standard ones.
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, params())
            .hash_password(b"another password")
            .unwrap()
            .to_string();
        assert!(svc.verify("another password", Some(&theirs)).await.unwrap());
        assert!(!svc.verify("another passwore", Some(&theirs)).await.unwrap());
        let parsed = PasswordHash::new(&hash).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse battery", &parsed)
                .is_ok()
        );
        // Garbage in the database never matches and never panics.
        for bad in [
            "",
            "$argon2id$",
            "plaintext",
            "$argon2id$v=19$m=99999999,t=1,p=1$c2FsdHNhbHQ$aGFzaA",
        ] {
            assert!(!svc.verify("x", Some(bad)).await.unwrap(), "{bad}");
        }
        assert!(is_current(&hash));
        assert!(!is_current(
            "$argon2id$v=19$m=4096,t=3,p=1$c2FsdHNhbHQ$aGFzaA"
        ));
        assert!(!is_current("$2a$10$abcdefghijklmnopqrstuv"));
        // Imported bcrypt hashes verify on the workers too.
        let bcrypt = bcrypt::hash("imported one", 4).unwrap();
        assert!(svc.verify("imported one", Some(&bcrypt)).await.unwrap());
        assert!(!svc.verify("imported two", Some(&bcrypt)).await.unwrap());
        // The dummy hash never lets anyone in, whatever the password.
        assert!(
            !svc.verify("authgraph-dummy-password-for-unknown-users", None)
                .await
                .unwrap()
        );
    }
}
