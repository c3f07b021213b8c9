package demandcenter.peer;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One account's state, the value of the "accounts" RocksDB store (key: account id). The
 * fields are those of the engine's AccountState that the journey, the score, the buying
 * committee and the peer's rules read; written with DataOutputStream (a team would pick
 * Avro or protobuf; this keeps the jar free of a schema toolchain).
 */
public final class AccountState {
  /** A contact of the account (the engine's ContactState, without consent and score). */
  public static final class Contact {
    String contactId = "";
    String email = "";
    String title = "";
    String role = "";
    long lastEngagedMs;
  }

  String stage;
  long stageEnteredMs;
  long lastSignalMs;
  long lastEngagedMs;
  /** The decayed engagement score: value as of scoreAsOfMs. */
  double scoreValue;
  long scoreAsOfMs;
  double usageDrop;
  double opportunityAmount;
  int productCount;
  String segment = "";
  /** When the pending inactivity timer is due (0: none), as in the "timers" store. */
  long inactivityDueMs;
  List<Contact> contacts = new ArrayList<>();
  /** Occurrences of web.pricing_view (time order) and their contact, kept 14 days. */
  List<Long> pricingAtMs = new ArrayList<>();
  List<String> pricingContact = new ArrayList<>();
  /** Event ids seen within the dedup window, with their event time. */
  List<String> seenIds = new ArrayList<>();
  List<Long> seenAtMs = new ArrayList<>();
  /** Rule id to when it last fired (for the rules' cool-downs). */
  Map<String, Long> fired = new LinkedHashMap<>();

  static AccountState create(String initialStage, long nowMs) {
    AccountState a = new AccountState();
    a.stage = initialStage;
    a.stageEnteredMs = nowMs;
    return a;
  }

  byte[] toBytes() {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(256);
      DataOutputStream out = new DataOutputStream(bytes);
      out.writeByte(1); // format version
      out.writeUTF(stage);
      out.writeLong(stageEnteredMs);
      out.writeLong(lastSignalMs);
      out.writeLong(lastEngagedMs);
      out.writeDouble(scoreValue);
      out.writeLong(scoreAsOfMs);
      out.writeDouble(usageDrop);
      out.writeDouble(opportunityAmount);
      out.writeInt(productCount);
      out.writeUTF(segment);
      out.writeLong(inactivityDueMs);
      out.writeInt(contacts.size());
      for (Contact c : contacts) {
        out.writeUTF(c.contactId);
        out.writeUTF(c.email);
        out.writeUTF(c.title);
        out.writeUTF(c.role);
        out.writeLong(c.lastEngagedMs);
      }
      out.writeInt(pricingAtMs.size());
      for (int i = 0; i < pricingAtMs.size(); i++) {
        out.writeLong(pricingAtMs.get(i));
        out.writeUTF(pricingContact.get(i));
      }
      out.writeInt(seenIds.size());
      for (int i = 0; i < seenIds.size(); i++) {
        out.writeUTF(seenIds.get(i));
        out.writeLong(seenAtMs.get(i));
      }
      out.writeInt(fired.size());
      for (Map.Entry<String, Long> f : fired.entrySet()) {
        out.writeUTF(f.getKey());
        out.writeLong(f.getValue());
      }
      out.flush();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static AccountState fromBytes(byte[] data) {
    try {
      DataInputStream in = new DataInputStream(new ByteArrayInputStream(data));
      int version = in.readByte();
      if (version != 1) throw new IllegalStateException("unknown account state format " + version);
      AccountState a = new AccountState();
      a.stage = in.readUTF();
      a.stageEnteredMs = in.readLong();
      a.lastSignalMs = in.readLong();
      a.lastEngagedMs = in.readLong();
      a.scoreValue = in.readDouble();
      a.scoreAsOfMs = in.readLong();
      a.usageDrop = in.readDouble();
      a.opportunityAmount = in.readDouble();
      a.productCount = in.readInt();
      a.segment = in.readUTF();
      a.inactivityDueMs = in.readLong();
      for (int i = in.readInt(); i > 0; i--) {
        Contact c = new Contact();
        c.contactId = in.readUTF();
        c.email = in.readUTF();
        c.title = in.readUTF();
        c.role = in.readUTF();
        c.lastEngagedMs = in.readLong();
        a.contacts.add(c);
      }
      for (int i = in.readInt(); i > 0; i--) {
        a.pricingAtMs.add(in.readLong());
        a.pricingContact.add(in.readUTF());
      }
      for (int i = in.readInt(); i > 0; i--) {
        a.seenIds.add(in.readUTF());
        a.seenAtMs.add(in.readLong());
      }
      for (int i = in.readInt(); i > 0; i--) a.fired.put(in.readUTF(), in.readLong());
      return a;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
