// Files of HL7 v2 messages for back-loading (hl7v2/message_file.h): plain text in any line
// ending, batch envelopes, and MLLP frames, split into messages as MLLP would deliver them.
#include <gtest/gtest.h>

#include "gateway/hl7v2/message_file.h"

namespace acp::hl7v2 {
namespace {

TEST(MessageFile, PlainTextIsSplitAtEveryMshWhateverTheLineEndings) {
  MessageFile f = splitMessageFile(
      "MSH|^~\\&|PAS|RX8|||20261028093000||ADT^A01|1|P|2.4\nPID|1||9992530820^^^NHS^NH\n\n"
      "MSH|^~\\&|PAS|RX8|||20261028093100||ADT^A03|2|P|2.4\r\nPID|1\r\n"
      "MSH|^~\\&|PAS|RX8|||20261028093200||ADT^A08|3|P|2.4\rPID|1");
  ASSERT_EQ(f.messages.size(), 3u);
  EXPECT_EQ(f.messages[0], "MSH|^~\\&|PAS|RX8|||20261028093000||ADT^A01|1|P|2.4\rPID|1||9992530820^^^NHS^NH\r");
  EXPECT_EQ(f.messages[1], "MSH|^~\\&|PAS|RX8|||20261028093100||ADT^A03|2|P|2.4\rPID|1\r");
  EXPECT_EQ(f.messages[2], "MSH|^~\\&|PAS|RX8|||20261028093200||ADT^A08|3|P|2.4\rPID|1\r");
  EXPECT_EQ(f.strayLines, 0u);
}

TEST(MessageFile, BatchEnvelopesAreDroppedAndLinesBeforeAnyMessageCounted) {
  MessageFile f = splitMessageFile(
      "exported 2026-11-01\nFHS|^~\\&|PAS\nBHS|^~\\&|PAS\nMSH#^~\\&#PAS#RX8\nPID#1\nBTS|1\nFTS|1\n");
  ASSERT_EQ(f.messages.size(), 1u);
  EXPECT_EQ(f.messages[0], "MSH#^~\\&#PAS#RX8\rPID#1\r") << "any field separator";
  EXPECT_EQ(f.strayLines, 1u);
}

TEST(MessageFile, MllpFramesAreMessages) {
  MessageFile f = splitMessageFile(
      "\x0bMSH|^~\\&|A\rPID|1\r\x1c\r\n\x0bMSH|^~\\&|B\nPID|2\x1c\r junk \x0bMSH|^~\\&|C\r");
  ASSERT_EQ(f.messages.size(), 3u);
  EXPECT_EQ(f.messages[0], "MSH|^~\\&|A\rPID|1\r");
  EXPECT_EQ(f.messages[1], "MSH|^~\\&|B\rPID|2\r");
  EXPECT_EQ(f.messages[2], "MSH|^~\\&|C\r");
  EXPECT_EQ(f.strayLines, 1u);
  EXPECT_EQ(f.unterminatedFrames, 1u);
}

TEST(MessageFile, AFrameWithoutItsEndStopsAtTheNextFrame) {
  MessageFile f = splitMessageFile("\x0bMSH|^~\\&|A\rPID|1\r\x0bMSH|^~\\&|B\rPID|2\r\x1c\r");
  ASSERT_EQ(f.messages.size(), 2u) << "never two messages in one";
  EXPECT_EQ(f.messages[0], "MSH|^~\\&|A\rPID|1\r");
  EXPECT_EQ(f.messages[1], "MSH|^~\\&|B\rPID|2\r");
  EXPECT_EQ(f.unterminatedFrames, 1u);
}

TEST(MessageFile, AByteOrderMarkAndIndentedLinesLoseNoMessage) {
  MessageFile text = splitMessageFile("\xEF\xBB\xBFMSH|^~\\&|A\n  PID|1\n\tMSH|^~\\&|B\n");
  ASSERT_EQ(text.messages.size(), 2u);
  EXPECT_EQ(text.messages[0], "MSH|^~\\&|A\rPID|1\r");
  EXPECT_EQ(text.strayLines, 0u);
  MessageFile framed = splitMessageFile("\xEF\xBB\xBF\x0bMSH|^~\\&|A\r\x1c\r");
  ASSERT_EQ(framed.messages.size(), 1u);
  EXPECT_EQ(framed.strayLines, 0u);
}

TEST(MessageFile, NothingToSplitGivesNoMessages) {
  EXPECT_TRUE(splitMessageFile("").messages.empty());
  EXPECT_TRUE(splitMessageFile("\n\n  \n").messages.empty());
  MessageFile text = splitMessageFile("no message here\nPID|1\n");
  EXPECT_TRUE(text.messages.empty());
  EXPECT_EQ(text.strayLines, 2u);
  EXPECT_TRUE(splitMessageFile("MSHX|not a header\n").messages.empty());
}

}  // namespace
}  // namespace acp::hl7v2
