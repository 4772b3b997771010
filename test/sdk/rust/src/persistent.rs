//! The persistent-stream cases of test/sdk/README.md (exactly-once; the crate's feature `eos`):
//! `ZerobusSdk::persistent_stream_builder()` creates a stream whose id the server mints, or
//! `.resume(id)`s one; its logical offsets are the wire offsets and continue across connections, so
//! a resend of an offset the server already has is acknowledged without being written again. The
//! harness requires zero duplicate ids in these tables.

use databricks_zerobus_ingest_sdk::PersistentStream;

use super::*;

pub const CASES: &[&str] = &[
    "persistent_resume",
    "persistent_restart",
    "persistent_close_signal",
];

/// What the SDK acknowledged over all streams of one case: offsets continue across a resume, so
/// one collector and one offset -> ids map serve every stream of the case.
#[derive(Default)]
struct Persisted {
    acks: Arc<Acks>,
    ids_at: BTreeMap<OffsetId, Vec<i64>>,
}

impl Persisted {
    /// One JSON record per `ingest_record_offset` call; returns the first and the last offset.
    async fn each(
        &mut self,
        stream: &PersistentStream,
        ids: std::ops::Range<i64>,
    ) -> ZerobusResult<(OffsetId, OffsetId)> {
        let mut span: Option<(OffsetId, OffsetId)> = None;
        for id in ids {
            let offset = stream.ingest_record_offset(JsonValue(json_row(id))).await?;
            self.ids_at.insert(offset, vec![id]);
            span = Some((span.map_or(offset, |s| s.0), offset));
        }
        Ok(span.expect("at least one record"))
    }
}

impl Driver {
    /// A persistent JSON stream on `sdk`, created (`resume` None) or resumed, with the same
    /// timeouts and recovery settings as `Driver::open_on`.
    async fn open_persistent(
        &self,
        sdk: &ZerobusSdk,
        table: &str,
        acks: Arc<Acks>,
        resume: Option<&str>,
    ) -> ZerobusResult<PersistentStream> {
        let builder = sdk
            .persistent_stream_builder()
            .table(table)
            .oauth(self.client_id.clone(), self.client_secret.clone())
            .max_inflight_requests(10_000)
            .recovery(true)
            .recovery_timeout_ms(5_000)
            .recovery_backoff_ms(1_000)
            .recovery_retries(10)
            .server_lack_of_ack_timeout_ms(30_000)
            .flush_timeout_ms(60_000)
            .ack_callback(acks)
            .json();
        match resume {
            None => builder.build().await,
            Some(id) => builder.resume(id.to_string()).await,
        }
    }

    pub async fn persistent_case(&self, case: &str) -> Value {
        let table = format!("{}{case}", self.prefix);
        let started = Instant::now();
        let mut p = Persisted::default();
        let mut facts = serde_json::Map::new();
        let run = self.run_persistent(case, &table, &mut p, &mut facts);
        let result = match tokio::time::timeout(CASE_TIMEOUT, run).await {
            Ok(r) => r,
            Err(_) => Err(format!("driver timeout after {} s", CASE_TIMEOUT.as_secs())),
        };
        let mut line = match result {
            Ok(()) => {
                let (ids, note) = acked_ids(&p.acks, &p.ids_at);
                eprintln!(
                    "rust driver: {case}: {} ids acked in {:.1} s",
                    ids.len(),
                    started.elapsed().as_secs_f64()
                );
                let mut line = json!({"case": case, "table": table, "acked_ids": ids, "ok": true});
                if let Some(note) = note {
                    line["note"] = json!(note);
                }
                line
            }
            Err(detail) => json!({"case": case, "ok": false, "detail": detail}),
        };
        for (k, v) in facts {
            line[k] = v;
        }
        line
    }

    async fn run_persistent(
        &self,
        case: &str,
        table: &str,
        p: &mut Persisted,
        facts: &mut serde_json::Map<String, Value>,
    ) -> Result<(), String> {
        // persistent_resume builds an SDK of its own, dropped with its first stream as if the
        // process ended; the other cases use the driver's SDK.
        let own_sdk =
            (case == "persistent_resume").then(|| new_sdk(&self.endpoint, &self.workspace));
        let sdk = own_sdk.as_ref().unwrap_or(&self.sdk);
        let mut s = self
            .open_persistent(sdk, table, p.acks.clone(), None)
            .await
            .map_err(|e| describe("open persistent stream", &e))?;
        let id = s.stream_id().unwrap_or_default().to_string();
        facts.insert("stream_id".into(), json!(id));
        let body = async {
            if id.is_empty() {
                return Err("the created stream has no stream_id".to_string());
            }
            let (from, action) = match case {
                "persistent_resume" => (8000, None),
                "persistent_restart" => (8200, Some("restart")),
                "persistent_close_signal" => (8500, Some("close-all")),
                _ => unreachable!("unknown persistent case {case}"),
            };
            let (first, _) = p
                .each(&s, from..from + 100)
                .await
                .map_err(|e| describe("ingest", &e))?;
            if first != 0 {
                return Err(format!("a created stream's first offset is {first}, not 0"));
            }
            s.flush().await.map_err(|e| describe("flush", &e))?;
            let Some(action) = action else {
                return Ok(());
            };
            let reply = self.control(action).await?;
            eprintln!("rust driver: {case}: control {action} -> {reply}");
            p.each(&s, from + 100..from + 300)
                .await
                .map_err(|e| describe(&format!("ingest after {action}"), &e))?;
            s.flush()
                .await
                .map_err(|e| describe(&format!("flush after {action}"), &e))
        }
        .await;
        let closed = s.close().await;
        body?;
        closed.map_err(|e| describe("close", &e))?;
        if case != "persistent_resume" {
            return Ok(());
        }
        // As if the process restarted: no stream and no SDK object of the first run survive.
        drop(s);
        drop(own_sdk);
        self.resume_in_new_sdk(table, &id, p, facts).await
    }

    /// persistent_resume, second half: a new SDK resumes the stream by id; the watermark must be
    /// the last offset of the first run (99) and the next record goes to the offset after it.
    async fn resume_in_new_sdk(
        &self,
        table: &str,
        id: &str,
        p: &mut Persisted,
        facts: &mut serde_json::Map<String, Value>,
    ) -> Result<(), String> {
        let sdk = new_sdk(&self.endpoint, &self.workspace);
        let mut s = self
            .open_persistent(&sdk, table, p.acks.clone(), Some(id))
            .await
            .map_err(|e| describe("resume persistent stream", &e))?;
        let watermark = s.resume_watermark();
        facts.insert("resume_watermark".into(), json!(watermark));
        let body = async {
            if s.stream_id() != Some(id) {
                return Err(format!(
                    "resumed stream_id {:?}, want {id:?}",
                    s.stream_id()
                ));
            }
            if watermark != Some(99) {
                return Err(format!("resume_watermark() = {watermark:?}, want Some(99)"));
            }
            let (first, _) = p
                .each(&s, 8100..8200)
                .await
                .map_err(|e| describe("ingest after resume", &e))?;
            facts.insert("first_offset_after_resume".into(), json!(first));
            if first != 100 {
                return Err(format!("first offset after resume is {first}, want 100"));
            }
            s.flush()
                .await
                .map_err(|e| describe("flush after resume", &e))
        }
        .await;
        let closed = s.close().await;
        body?;
        closed.map_err(|e| describe("close after resume", &e))
    }
}
