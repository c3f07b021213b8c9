package demandcenter.peer;

import org.apache.kafka.common.serialization.Deserializer;
import org.apache.kafka.common.serialization.Serde;
import org.apache.kafka.common.serialization.Serializer;

/** Input values: JSON bytes to {@link Signal}. Decoding never throws: a bad record is dropped by the extractor. */
public final class SignalSerde implements Serde<Signal> {
  @Override
  public Serializer<Signal> serializer() {
    return (topic, signal) -> {
      throw new UnsupportedOperationException("the peer never writes signals");
    };
  }

  @Override
  public Deserializer<Signal> deserializer() {
    return (topic, bytes) -> Signal.parse(bytes);
  }
}
