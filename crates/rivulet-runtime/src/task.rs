//! Running one subtask: its operator chain between its input queue and its
//! output edges.
//!
//! The loop reads tagged elements from the subtask's queue, tracks the watermark
//! of every input channel (the task's watermark is the minimum over channels that
//! have not ended), pushes batches through the chain and partitions the results
//! over the output edges. End-of-data from every channel finishes the chain and
//! is forwarded. Waiting for input counts as idle time, waiting for room
//! downstream as back-pressured time. Cancellation is checked at every wait.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use rivulet_common::{JobId, JobVertexId};
use tokio::sync::mpsc::error::TrySendError;
use tokio_util::sync::CancellationToken;

use crate::channel::{ChannelKey, ElementReceiver, ElementSender, LocalChannels};
use crate::element::{ChannelElement, MAX_WATERMARK, StreamElement};
use crate::error::{Result, RuntimeError};
use crate::functions::proctime::now_millis;
use crate::job_graph::ShipStrategy;
use crate::metrics::TaskIoMetrics;
use crate::operators::{
    EventTimeSignal, Operator, OperatorSpec, RunningOperator, SourceFunction, SourcePoll,
    SubtaskContext,
};
use crate::partition::{hash_targets, split_by_targets};
use crate::watermarks::{InputChange, InputWatermarks};

/// One output edge as the producing subtask sees it.
#[derive(Debug, Clone)]
pub struct OutputDescriptor {
    pub target_vertex: JobVertexId,
    pub target_parallelism: u32,
    pub target_max_parallelism: u32,
    pub strategy: ShipStrategy,
    pub key_column: Option<usize>,
    /// This edge's first channel index at the consumer.
    pub channel_offset: usize,
}

/// Everything a TaskExecutor needs to run one subtask.
#[derive(Debug, Clone)]
pub struct TaskDescriptor {
    pub job_id: JobId,
    pub vertex_id: JobVertexId,
    pub task_name: String,
    pub subtask_index: u32,
    pub parallelism: u32,
    pub max_parallelism: u32,
    pub operators: Vec<OperatorSpec>,
    pub input_schema: Option<SchemaRef>,
    pub num_input_channels: usize,
    /// The first input channel of each input edge, in edge order: which
    /// input a channel belongs to (a join's left or right side).
    pub input_offsets: Vec<usize>,
    pub outputs: Vec<OutputDescriptor>,
}

/// How a task that did not fail ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskOutcome {
    Finished,
    Canceled,
}

/// Lifecycle points a task reports while it starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskPhase {
    Initializing,
    Running,
}

/// Runs a subtask to its end. `report` is told when the task starts
/// initializing its operators and when it is running.
pub async fn run_task(
    descriptor: TaskDescriptor,
    channels: Arc<LocalChannels>,
    metrics: Arc<TaskIoMetrics>,
    cancel: CancellationToken,
    report: impl Fn(TaskPhase) + Send,
) -> Result<TaskOutcome> {
    report(TaskPhase::Initializing);
    let context = SubtaskContext {
        task_name: descriptor.task_name.clone(),
        subtask_index: descriptor.subtask_index,
        parallelism: descriptor.parallelism,
        max_parallelism: descriptor.max_parallelism,
    };
    let mut source: Option<Box<dyn SourceFunction>> = None;
    let mut chain: Vec<Box<dyn Operator>> = Vec::new();
    let mut schema = descriptor.input_schema.clone();
    for spec in &descriptor.operators {
        match spec.instantiate(schema.as_ref(), &context)? {
            RunningOperator::Source(s) => source = Some(s),
            RunningOperator::Operator(op) => chain.push(op),
        }
        schema = spec.output_schema(schema.as_ref())?;
    }
    for op in chain.iter_mut() {
        op.open()?;
    }
    let input = if source.is_none() {
        let key = ChannelKey {
            job_id: descriptor.job_id,
            vertex_id: descriptor.vertex_id,
            subtask: descriptor.subtask_index,
        };
        Some(channels.take_receiver(key).ok_or_else(|| {
            RuntimeError::ChannelClosed(format!("input of {}", descriptor.task_name))
        })?)
    } else {
        None
    };
    let mut outputs: Vec<OutputWriter> = descriptor
        .outputs
        .iter()
        .map(|o| OutputWriter::new(o, &descriptor, &channels))
        .collect();

    let mut task = RunningTask {
        chain,
        outputs: &mut outputs,
        metrics: &metrics,
        cancel: &cancel,
    };
    metrics.mark_running();
    report(TaskPhase::Running);
    let outcome = match (source, input) {
        (Some(source), _) => task.run_source(source).await,
        (None, Some(input)) => {
            let inputs = InputLayout {
                channels: descriptor.num_input_channels,
                offsets: descriptor.input_offsets.clone(),
            };
            task.run_input(input, inputs).await
        }
        (None, None) => Err(RuntimeError::Operator {
            operator: descriptor.task_name.clone(),
            message: "task has neither a source nor an input".into(),
        }),
    };
    metrics.mark_ended();
    outcome
}

struct RunningTask<'a> {
    chain: Vec<Box<dyn Operator>>,
    outputs: &'a mut [OutputWriter],
    metrics: &'a TaskIoMetrics,
    cancel: &'a CancellationToken,
}

impl RunningTask<'_> {
    async fn run_source(&mut self, mut source: Box<dyn SourceFunction>) -> Result<TaskOutcome> {
        let mut since_yield = 0u32;
        loop {
            if self.cancel.is_cancelled() {
                return Ok(TaskOutcome::Canceled);
            }
            match source.poll_next()? {
                SourcePoll::Batch(batch) => {
                    let mut produced = Vec::new();
                    push_through(&mut self.chain, batch, &mut produced)?;
                    if self.emit_batches(produced).await? == SendResult::Cancelled
                        || self.emit_event_time().await? == SendResult::Cancelled
                    {
                        return Ok(TaskOutcome::Canceled);
                    }
                    since_yield += 1;
                    if since_yield >= 16 {
                        since_yield = 0;
                        tokio::task::yield_now().await;
                    }
                }
                SourcePoll::Idle(wait) => {
                    self.metrics.begin_idle();
                    tokio::select! {
                        _ = self.cancel.cancelled() => return Ok(TaskOutcome::Canceled),
                        _ = tokio::time::sleep(wait) => {}
                    }
                    self.metrics.end_idle();
                    if self.emit_event_time().await? == SendResult::Cancelled {
                        return Ok(TaskOutcome::Canceled);
                    }
                }
                SourcePoll::End => return self.end_of_input().await,
            }
        }
    }

    async fn run_input(
        &mut self,
        mut input: ElementReceiver,
        layout: InputLayout,
    ) -> Result<TaskOutcome> {
        let channels = layout.channels;
        let mut inputs = InputWatermarks::new(channels);
        loop {
            let element = match input.try_recv() {
                Ok(element) => element,
                Err(_) => {
                    self.metrics.begin_idle();
                    // Waiting ends at the next processing-time timer too.
                    let timer = self.next_processing_timer().map(|at| {
                        let wait = at.saturating_sub(now_millis()).max(0) as u64;
                        std::time::Duration::from_millis(wait)
                    });
                    let received = tokio::select! {
                        _ = self.cancel.cancelled() => return Ok(TaskOutcome::Canceled),
                        received = input.recv() => Some(received),
                        _ = sleep_for(timer) => None,
                    };
                    self.metrics.end_idle();
                    let Some(received) = received else {
                        if self.fire_processing_time().await? == SendResult::Cancelled {
                            return Ok(TaskOutcome::Canceled);
                        }
                        continue;
                    };
                    received.ok_or_else(|| RuntimeError::ChannelClosed("input".into()))?
                }
            };
            let ChannelElement { channel, element } = element;
            if channel >= channels {
                return Err(RuntimeError::Operator {
                    operator: "input gate".into(),
                    message: format!("element on channel {channel} of {channels}"),
                });
            }
            match element {
                StreamElement::Batch(batch) => {
                    self.metrics.add_input(
                        batch.num_rows() as u64,
                        batch.get_array_memory_size() as u64,
                    );
                    let mut produced = Vec::new();
                    push_input_through(
                        &mut self.chain,
                        layout.input_of(channel),
                        batch,
                        &mut produced,
                    )?;
                    if self.emit_batches(produced).await? == SendResult::Cancelled
                        || self.emit_event_time().await? == SendResult::Cancelled
                        || self.fire_processing_time().await? == SendResult::Cancelled
                    {
                        return Ok(TaskOutcome::Canceled);
                    }
                    if inputs.activate(channel)
                        && let Some(step) = self.advance_watermark(&mut inputs).await?
                    {
                        return Ok(step);
                    }
                }
                StreamElement::Watermark(watermark) => {
                    inputs.watermark(channel, watermark);
                    if let Some(step) = self.advance_watermark(&mut inputs).await? {
                        return Ok(step);
                    }
                }
                StreamElement::Idle => {
                    inputs.idle(channel);
                    if let Some(step) = self.advance_watermark(&mut inputs).await? {
                        return Ok(step);
                    }
                }
                StreamElement::Barrier(barrier) => {
                    // Alignment arrives with checkpointing; until then barriers pass through.
                    if self.broadcast(StreamElement::Barrier(barrier)).await?
                        == SendResult::Cancelled
                    {
                        return Ok(TaskOutcome::Canceled);
                    }
                }
                StreamElement::EndOfData => {
                    if inputs.end(channel) {
                        return self.end_of_input().await;
                    }
                    if let Some(step) = self.advance_watermark(&mut inputs).await? {
                        return Ok(step);
                    }
                }
            }
        }
    }

    /// Emits a new task watermark if the minimum over active channels
    /// advanced, or declares this subtask idle when every live input is.
    async fn advance_watermark(
        &mut self,
        inputs: &mut InputWatermarks,
    ) -> Result<Option<TaskOutcome>> {
        match inputs.advance() {
            InputChange::None => Ok(None),
            InputChange::AllIdle => Ok((self.broadcast(StreamElement::Idle).await?
                == SendResult::Cancelled)
                .then_some(TaskOutcome::Canceled)),
            InputChange::Watermark(watermark) => {
                self.metrics.set_input_watermark(watermark);
                let mut produced = Vec::new();
                watermark_through(&mut self.chain, watermark, &mut produced)?;
                if self.emit_batches(produced).await? == SendResult::Cancelled
                    || self.broadcast(StreamElement::Watermark(watermark)).await?
                        == SendResult::Cancelled
                {
                    return Ok(Some(TaskOutcome::Canceled));
                }
                Ok(None)
            }
        }
    }

    /// The earliest processing-time timer of the chain's operators.
    fn next_processing_timer(&self) -> Option<i64> {
        self.chain
            .iter()
            .filter_map(|operator| operator.next_processing_timer())
            .min()
    }

    /// Fires the processing-time timers that are due, each operator's
    /// results through the operators after it and on.
    async fn fire_processing_time(&mut self) -> Result<SendResult> {
        let Some(next) = self.next_processing_timer() else {
            return Ok(SendResult::Sent);
        };
        let now = now_millis();
        if next > now {
            return Ok(SendResult::Sent);
        }
        let mut produced = Vec::new();
        for position in 0..self.chain.len() {
            let mut fired = Vec::new();
            self.chain[position].process_time(now, &mut fired)?;
            for batch in fired {
                push_through(&mut self.chain[position + 1..], batch, &mut produced)?;
            }
        }
        self.emit_batches(produced).await
    }

    /// Asks the chain's event-time generators (watermark assigners) for a
    /// watermark or an idle status and sends it on: a watermark through the
    /// operators after its generator and to every consumer.
    async fn emit_event_time(&mut self) -> Result<SendResult> {
        let now = std::time::Instant::now();
        for position in 0..self.chain.len() {
            let Some(signal) = self.chain[position].poll_event_time(now) else {
                continue;
            };
            let element = match signal {
                EventTimeSignal::Watermark(watermark) => {
                    let mut produced = Vec::new();
                    watermark_through(&mut self.chain[position + 1..], watermark, &mut produced)?;
                    if self.emit_batches(produced).await? == SendResult::Cancelled {
                        return Ok(SendResult::Cancelled);
                    }
                    StreamElement::Watermark(watermark)
                }
                EventTimeSignal::Idle => StreamElement::Idle,
            };
            if self.broadcast(element).await? == SendResult::Cancelled {
                return Ok(SendResult::Cancelled);
            }
        }
        Ok(SendResult::Sent)
    }

    async fn end_of_input(&mut self) -> Result<TaskOutcome> {
        let mut produced = Vec::new();
        watermark_through(&mut self.chain, MAX_WATERMARK, &mut produced)?;
        finish_through(&mut self.chain, &mut produced)?;
        if self.emit_batches(produced).await? == SendResult::Cancelled
            || self
                .broadcast(StreamElement::Watermark(MAX_WATERMARK))
                .await?
                == SendResult::Cancelled
            || self.broadcast(StreamElement::EndOfData).await? == SendResult::Cancelled
        {
            return Ok(TaskOutcome::Canceled);
        }
        Ok(TaskOutcome::Finished)
    }

    async fn emit_batches(&mut self, batches: Vec<RecordBatch>) -> Result<SendResult> {
        for batch in batches {
            if batch.num_rows() == 0 {
                continue;
            }
            for output in self.outputs.iter_mut() {
                for (target, part) in output.route(&batch)? {
                    let records = part.num_rows() as u64;
                    let bytes = part.get_array_memory_size() as u64;
                    let element = StreamElement::Batch(part);
                    if output
                        .send(target, element, self.metrics, self.cancel)
                        .await?
                        == SendResult::Cancelled
                    {
                        return Ok(SendResult::Cancelled);
                    }
                    self.metrics.add_output(records, bytes);
                }
            }
        }
        Ok(SendResult::Sent)
    }

    async fn broadcast(&mut self, element: StreamElement) -> Result<SendResult> {
        for output in self.outputs.iter_mut() {
            for target in output.all_targets() {
                if output
                    .send(target, element.clone(), self.metrics, self.cancel)
                    .await?
                    == SendResult::Cancelled
                {
                    return Ok(SendResult::Cancelled);
                }
            }
        }
        Ok(SendResult::Sent)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SendResult {
    Sent,
    Cancelled,
}

/// The sending side of one output edge.
struct OutputWriter {
    descriptor: OutputDescriptor,
    /// One sender per consumer subtask (only the matching one for forward).
    senders: Vec<Option<ElementSender>>,
    channel: usize,
    next_round_robin: u32,
    subtask_index: u32,
}

impl OutputWriter {
    fn new(output: &OutputDescriptor, task: &TaskDescriptor, channels: &LocalChannels) -> Self {
        let senders = (0..output.target_parallelism)
            .map(|target| {
                let wanted =
                    output.strategy != ShipStrategy::Forward || target == task.subtask_index;
                wanted.then(|| {
                    channels.sender(ChannelKey {
                        job_id: task.job_id,
                        vertex_id: output.target_vertex,
                        subtask: target,
                    })
                })
            })
            .collect();
        let channel = match output.strategy {
            ShipStrategy::Forward => output.channel_offset,
            _ => output.channel_offset + task.subtask_index as usize,
        };
        OutputWriter {
            descriptor: output.clone(),
            senders,
            channel,
            next_round_robin: task.subtask_index,
            subtask_index: task.subtask_index,
        }
    }

    fn all_targets(&self) -> Vec<u32> {
        (0..self.senders.len() as u32)
            .filter(|t| self.senders[*t as usize].is_some())
            .collect()
    }

    fn route(&mut self, batch: &RecordBatch) -> Result<Vec<(u32, RecordBatch)>> {
        let parallelism = self.descriptor.target_parallelism;
        Ok(match self.descriptor.strategy {
            ShipStrategy::Forward => vec![(self.subtask_index, batch.clone())],
            ShipStrategy::Rebalance => {
                let target = self.next_round_robin % parallelism;
                self.next_round_robin = self.next_round_robin.wrapping_add(1);
                vec![(target, batch.clone())]
            }
            ShipStrategy::Broadcast => (0..parallelism).map(|t| (t, batch.clone())).collect(),
            // Every key's group belongs to the one subtask: no need to hash
            // them (a composite key's hash was a twentieth of q17's time).
            ShipStrategy::Hash if parallelism == 1 => vec![(0, batch.clone())],
            ShipStrategy::Hash => {
                let key = self
                    .descriptor
                    .key_column
                    .ok_or_else(|| RuntimeError::Operator {
                        operator: "hash partitioner".into(),
                        message: "hash edge without key column".into(),
                    })?;
                let targets = hash_targets(
                    batch,
                    key,
                    parallelism,
                    self.descriptor.target_max_parallelism,
                )?;
                split_by_targets(batch, &targets, parallelism)?
            }
        })
    }

    async fn send(
        &mut self,
        target: u32,
        element: StreamElement,
        metrics: &TaskIoMetrics,
        cancel: &CancellationToken,
    ) -> Result<SendResult> {
        let sender = self
            .senders
            .get(target as usize)
            .and_then(Option::as_ref)
            .ok_or_else(|| RuntimeError::ChannelClosed(format!("subtask {target}")))?;
        let tagged = ChannelElement {
            channel: self.channel,
            element,
        };
        match sender.try_send(tagged) {
            Ok(()) => Ok(SendResult::Sent),
            Err(TrySendError::Closed(_)) => Err(RuntimeError::ChannelClosed(format!(
                "subtask {target} of the next task"
            ))),
            Err(TrySendError::Full(tagged)) => {
                metrics.begin_backpressure();
                let sent = tokio::select! {
                    _ = cancel.cancelled() => return Ok(SendResult::Cancelled),
                    sent = sender.send(tagged) => sent,
                };
                metrics.end_backpressure();
                sent.map(|_| SendResult::Sent).map_err(|_| {
                    RuntimeError::ChannelClosed(format!("subtask {target} of the next task"))
                })
            }
        }
    }
}

/// How a task's input channels divide into its input edges.
struct InputLayout {
    channels: usize,
    offsets: Vec<usize>,
}

impl InputLayout {
    /// The input edge channel `channel` belongs to.
    fn input_of(&self, channel: usize) -> usize {
        self.offsets
            .iter()
            .rposition(|&first| first <= channel)
            .unwrap_or(0)
    }
}

/// A batch from input `input` through the chain: its head is told which
/// input it came from.
fn push_input_through(
    chain: &mut [Box<dyn Operator>],
    input: usize,
    batch: RecordBatch,
    out: &mut Vec<RecordBatch>,
) -> Result<()> {
    match chain.split_first_mut() {
        None => {
            out.push(batch);
            Ok(())
        }
        Some((first, rest)) => {
            let mut produced = Vec::new();
            first.process_input(input, batch, &mut produced)?;
            for batch in produced {
                push_through(rest, batch, out)?;
            }
            Ok(())
        }
    }
}

/// A batch through the chain from its head.
fn push_through(
    chain: &mut [Box<dyn Operator>],
    batch: RecordBatch,
    out: &mut Vec<RecordBatch>,
) -> Result<()> {
    // Only an operator with several inputs of different meaning reads the
    // input index, and such an operator is always first in its chain.
    push_input_through(chain, 0, batch, out)
}

/// Sleeps `wait`, or forever without one.
async fn sleep_for(wait: Option<std::time::Duration>) {
    match wait {
        Some(wait) => tokio::time::sleep(wait).await,
        None => std::future::pending().await,
    }
}

fn watermark_through(
    chain: &mut [Box<dyn Operator>],
    watermark: i64,
    out: &mut Vec<RecordBatch>,
) -> Result<()> {
    for position in 0..chain.len() {
        let mut produced = Vec::new();
        chain[position].process_watermark(watermark, &mut produced)?;
        for batch in produced {
            push_through(&mut chain[position + 1..], batch, out)?;
        }
    }
    Ok(())
}

fn finish_through(chain: &mut [Box<dyn Operator>], out: &mut Vec<RecordBatch>) -> Result<()> {
    for position in 0..chain.len() {
        let mut produced = Vec::new();
        chain[position].finish(&mut produced)?;
        for batch in produced {
            push_through(&mut chain[position + 1..], batch, out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::operators::GeneratorSpec;

    fn generator_task(target: JobVertexId) -> TaskDescriptor {
        let generator: GeneratorSpec = serde_json::from_str(r#"{"batchSize": 16}"#).unwrap();
        TaskDescriptor {
            job_id: JobId::random(),
            vertex_id: JobVertexId::random(),
            task_name: "Source: generator".into(),
            subtask_index: 0,
            parallelism: 1,
            max_parallelism: 128,
            operators: vec![OperatorSpec::Generator(generator)],
            input_schema: None,
            num_input_channels: 0,
            input_offsets: vec![],
            outputs: vec![OutputDescriptor {
                target_vertex: target,
                target_parallelism: 1,
                target_max_parallelism: 128,
                strategy: ShipStrategy::Forward,
                key_column: None,
                channel_offset: 0,
            }],
        }
    }

    /// A running subtask of `operators` over `channels` input channels of
    /// `schema`, forwarding to one consumer: its input, its consumer's
    /// queue, and the task.
    fn running_task(
        name: &str,
        operators: Vec<OperatorSpec>,
        schema: SchemaRef,
        channels: usize,
    ) -> (
        ElementSender,
        ElementReceiver,
        tokio::task::JoinHandle<Result<TaskOutcome>>,
    ) {
        let local = Arc::new(LocalChannels::new(16));
        let (job_id, consumer, next) = (
            JobId::random(),
            JobVertexId::random(),
            JobVertexId::random(),
        );
        let descriptor = TaskDescriptor {
            job_id,
            vertex_id: consumer,
            task_name: name.into(),
            subtask_index: 0,
            parallelism: 1,
            max_parallelism: 128,
            operators,
            input_schema: Some(schema),
            num_input_channels: channels,
            input_offsets: vec![0],
            outputs: vec![OutputDescriptor {
                target_vertex: next,
                target_parallelism: 1,
                target_max_parallelism: 128,
                strategy: ShipStrategy::Forward,
                key_column: None,
                channel_offset: 0,
            }],
        };
        let input = local.sender(ChannelKey {
            job_id,
            vertex_id: consumer,
            subtask: 0,
        });
        let output = local
            .take_receiver(ChannelKey {
                job_id,
                vertex_id: next,
                subtask: 0,
            })
            .expect("the consumer's queue");
        let task = tokio::spawn(run_task(
            descriptor,
            local,
            Arc::new(TaskIoMetrics::default()),
            CancellationToken::new(),
            |_| {},
        ));
        (input, output, task)
    }

    #[tokio::test]
    async fn a_consumer_that_does_not_read_back_pressures_its_producer_until_cancelled() {
        let channels = Arc::new(LocalChannels::new(2));
        let metrics = Arc::new(TaskIoMetrics::default());
        let cancel = CancellationToken::new();
        let task = tokio::spawn(run_task(
            generator_task(JobVertexId::random()),
            channels.clone(),
            metrics.clone(),
            cancel.clone(),
            |_| {},
        ));
        tokio::time::sleep(Duration::from_millis(300)).await;
        let snapshot = metrics.snapshot();
        assert_eq!(
            snapshot.write_records, 32,
            "two batches of 16 fill the queue"
        );
        assert!(snapshot.backpressured_millis >= 200, "{snapshot:?}");
        cancel.cancel();
        let outcome = tokio::time::timeout(Duration::from_secs(1), task).await;
        assert_eq!(outcome.unwrap().unwrap().unwrap(), TaskOutcome::Canceled);
    }

    #[tokio::test]
    async fn watermarks_advance_with_the_slowest_live_input_and_end_at_the_maximum() {
        // A chain without operators forwards what it receives.
        let (input, mut output, task) =
            running_task("forwarder", vec![], GeneratorSpec::schema(), 2);
        let send = |channel, element| {
            let input = input.clone();
            async move {
                input
                    .send(ChannelElement { channel, element })
                    .await
                    .unwrap()
            }
        };
        let mut watermarks = Vec::new();
        send(0, StreamElement::Watermark(10)).await;
        send(1, StreamElement::Watermark(5)).await;
        send(0, StreamElement::Watermark(20)).await;
        // An idle channel is left out until it sends again.
        send(1, StreamElement::Idle).await;
        send(0, StreamElement::Watermark(30)).await;
        send(1, StreamElement::Watermark(25)).await;
        send(0, StreamElement::Watermark(40)).await;
        // With every live channel idle, so is the subtask.
        send(1, StreamElement::Idle).await;
        send(0, StreamElement::Idle).await;
        send(1, StreamElement::EndOfData).await;
        send(0, StreamElement::EndOfData).await;
        let mut idle = 0;
        while let Some(ChannelElement { element, .. }) = output.recv().await {
            match element {
                StreamElement::Watermark(w) => watermarks.push(w),
                StreamElement::Idle => idle += 1,
                StreamElement::EndOfData => break,
                _ => {}
            }
        }
        assert_eq!(watermarks, vec![5, 20, 30, 40, MAX_WATERMARK]);
        assert_eq!(idle, 1);
        assert_eq!(task.await.unwrap().unwrap(), TaskOutcome::Finished);
    }

    #[tokio::test]
    async fn processing_time_windows_fire_by_the_clock_while_the_task_waits() {
        use arrow_array::{Int64Array, TimestampMillisecondArray};
        use arrow_schema::{DataType, Field, Schema, TimeUnit};

        use crate::operators::WindowAggregateSpec;
        let millis = || DataType::Timestamp(TimeUnit::Millisecond, None);
        let schema = Arc::new(Schema::new(vec![
            Field::new("k", DataType::Int64, false),
            Field::new("window_start", millis(), false),
            Field::new("window_end", millis(), false),
        ]));
        let spec: WindowAggregateSpec = serde_json::from_value(serde_json::json!({
            "key": "k", "windowStart": "window_start", "windowEnd": "window_end",
            "aggregates": [{"function": "count_star", "output": "n"}],
            "processingTime": true
        }))
        .unwrap();
        let operators = vec![OperatorSpec::WindowAggregate(spec)];
        let (input, mut output, task) =
            running_task("WindowAggregate", operators, schema.clone(), 1);
        // A window of the wall clock that ends 200 ms from now.
        let end = now_millis() + 200;
        let batch = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int64Array::from_iter_values([1, 1])),
                Arc::new(TimestampMillisecondArray::from_iter_values([end - 1000; 2])),
                Arc::new(TimestampMillisecondArray::from_iter_values([end; 2])),
            ],
        )
        .unwrap();
        let element = StreamElement::Batch(batch);
        input
            .send(ChannelElement {
                channel: 0,
                element,
            })
            .await
            .unwrap();
        // No more input: the window comes out when the clock reaches its end.
        let fired = tokio::time::timeout(Duration::from_secs(5), output.recv()).await;
        let Ok(Some(ChannelElement {
            element: StreamElement::Batch(batch),
            ..
        })) = fired
        else {
            panic!("no window by the clock: {fired:?}");
        };
        assert_eq!(batch.num_rows(), 1);
        assert!(now_millis() >= end - 1, "not before the window's end");
        let element = StreamElement::EndOfData;
        input
            .send(ChannelElement {
                channel: 0,
                element,
            })
            .await
            .unwrap();
        let outcome = tokio::time::timeout(Duration::from_secs(1), task).await;
        assert_eq!(outcome.unwrap().unwrap().unwrap(), TaskOutcome::Finished);
    }
}
