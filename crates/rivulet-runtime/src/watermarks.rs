//! The input side of event time for one subtask: the watermark of each input
//! channel, which channels are idle or have ended, and the subtask's input
//! watermark, the minimum over the channels that are neither (it never goes
//! back). When every live channel is idle the subtask is idle itself, as
//! Flink propagates `WatermarkStatus.IDLE`.

#[derive(Debug, Clone, Copy)]
struct ChannelTime {
    watermark: i64,
    idle: bool,
    ended: bool,
}

/// What changed for the subtask after an input event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputChange {
    None,
    /// The input watermark advanced to this.
    Watermark(i64),
    /// Every live channel is idle: the subtask is idle too.
    AllIdle,
}

#[derive(Debug)]
pub struct InputWatermarks {
    channels: Vec<ChannelTime>,
    current: i64,
    idle_announced: bool,
}

impl InputWatermarks {
    pub fn new(channels: usize) -> Self {
        InputWatermarks {
            channels: vec![
                ChannelTime {
                    watermark: i64::MIN,
                    idle: false,
                    ended: false,
                };
                channels
            ],
            current: i64::MIN,
            idle_announced: false,
        }
    }

    pub fn watermark(&mut self, channel: usize, watermark: i64) {
        let time = &mut self.channels[channel];
        time.watermark = time.watermark.max(watermark);
        time.idle = false;
    }

    /// A batch came through `channel`; whether that ended its idleness.
    pub fn activate(&mut self, channel: usize) -> bool {
        std::mem::replace(&mut self.channels[channel].idle, false)
    }

    pub fn idle(&mut self, channel: usize) {
        self.channels[channel].idle = true;
    }

    /// `channel` ended; whether every channel now has.
    pub fn end(&mut self, channel: usize) -> bool {
        self.channels[channel].ended = true;
        self.channels.iter().all(|c| c.ended)
    }

    /// The subtask's input watermark: `i64::MIN` until every channel sent one.
    pub fn current(&self) -> i64 {
        self.current
    }

    /// Recomputes the input watermark after an event.
    pub fn advance(&mut self) -> InputChange {
        let live = self.channels.iter().filter(|c| !c.ended);
        let mut active = live.clone().filter(|c| !c.idle).peekable();
        if active.peek().is_none() {
            if live.count() == 0 || self.idle_announced {
                return InputChange::None;
            }
            self.idle_announced = true;
            return InputChange::AllIdle;
        }
        self.idle_announced = false;
        let minimum = active.map(|c| c.watermark).min().unwrap_or(i64::MIN);
        if minimum <= self.current {
            return InputChange::None;
        }
        self.current = minimum;
        InputChange::Watermark(minimum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_watermark_is_the_minimum_over_channels_and_never_goes_back() {
        let mut inputs = InputWatermarks::new(2);
        inputs.watermark(0, 10);
        assert_eq!(
            inputs.advance(),
            InputChange::None,
            "channel 1 sent none yet"
        );
        inputs.watermark(1, 5);
        assert_eq!(inputs.advance(), InputChange::Watermark(5));
        inputs.watermark(1, 3);
        assert_eq!(inputs.advance(), InputChange::None);
        inputs.watermark(1, 30);
        assert_eq!(inputs.advance(), InputChange::Watermark(10));
        assert_eq!(inputs.current(), 10);
    }

    #[test]
    fn idle_channels_are_left_out_until_they_send_again() {
        let mut inputs = InputWatermarks::new(3);
        inputs.watermark(0, 100);
        inputs.watermark(1, 200);
        inputs.idle(2);
        assert_eq!(inputs.advance(), InputChange::Watermark(100));
        // Back from idleness with an old watermark: held back, never regressing.
        inputs.watermark(2, 50);
        assert_eq!(inputs.advance(), InputChange::None);
        inputs.watermark(2, 150);
        inputs.watermark(0, 300);
        assert_eq!(inputs.advance(), InputChange::Watermark(150));
        // A batch alone also ends idleness.
        inputs.idle(2);
        assert!(inputs.activate(2));
        assert!(!inputs.activate(2));
    }

    #[test]
    fn when_every_live_channel_is_idle_the_subtask_is_idle_once() {
        let mut inputs = InputWatermarks::new(2);
        inputs.watermark(0, 7);
        assert!(!inputs.end(1));
        assert_eq!(inputs.advance(), InputChange::Watermark(7));
        inputs.idle(0);
        assert_eq!(inputs.advance(), InputChange::AllIdle);
        assert_eq!(inputs.advance(), InputChange::None, "announced once");
        inputs.watermark(0, 9);
        assert_eq!(inputs.advance(), InputChange::Watermark(9));
        assert!(inputs.end(0));
    }
}
