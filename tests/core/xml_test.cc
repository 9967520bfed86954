// Tests for the hardened XML entry point (gateway/core/xml.h).
#include "gateway/core/xml.h"

#include <gtest/gtest.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include <atomic>
#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace acp::xml {
namespace {

std::string rootName(const DocPtr& doc) {
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  return root ? reinterpret_cast<const char*>(root->name) : "";
}

// Counts every external entity load attempt made while it is installed; it never loads.
std::atomic<int> gLoads{0};
xmlParserInputPtr countingLoader(const char*, const char*, xmlParserCtxtPtr) {
  ++gLoads;
  return nullptr;
}

class LoaderSpy {
 public:
  LoaderSpy() : previous_(xmlGetExternalEntityLoader()) {
    xmlSafeInit();
    gLoads = 0;
    xmlSetExternalEntityLoader(countingLoader);
  }
  ~LoaderSpy() { xmlSetExternalEntityLoader(previous_); }

 private:
  xmlExternalEntityLoader previous_;
};

void expectRejected(const std::string& text, const std::string& code,
                    const std::string& issueType = "structure") {
  XmlError err;
  DocPtr doc = parseUntrusted(text, err);
  EXPECT_EQ(doc, nullptr) << text;
  EXPECT_EQ(err.code, code) << text << " → " << err.message;
  EXPECT_EQ(err.issueType, issueType) << text;
  EXPECT_FALSE(err.message.empty());
}

TEST(XmlTest, ParsesWellFormedDocument) {
  XmlError err;
  DocPtr doc = parseUntrusted(
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!-- hi --><?pi x?>\n"
      "<Patient xmlns=\"http://hl7.org/fhir\"><id value=\"1\"/></Patient>",
      err);
  ASSERT_NE(doc, nullptr) << err.message;
  EXPECT_EQ(rootName(doc), "Patient");
  const xmlNode* root = xmlDocGetRootElement(doc.get());
  ASSERT_NE(root->ns, nullptr);
  EXPECT_STREQ(reinterpret_cast<const char*>(root->ns->href), "http://hl7.org/fhir");
}

TEST(XmlTest, PreservesUtf8Content) {
  const std::string text = "Zo\xC3\xAB \xE6\x9D\xB1\xE4\xBA\xAC \xF0\x9F\x98\x80";  // Zoë 東京 😀
  XmlError err;
  DocPtr doc = parseUntrusted("\xEF\xBB\xBF<a v=\"" + text + "\">" + text + "</a>", err);
  ASSERT_NE(doc, nullptr) << err.message;
  xmlNode* root = xmlDocGetRootElement(doc.get());
  xmlChar* attr = xmlGetProp(root, BAD_CAST "v");
  xmlChar* content = xmlNodeGetContent(root);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(attr)), text);
  EXPECT_EQ(std::string(reinterpret_cast<char*>(content)), text);
  xmlFree(attr);
  xmlFree(content);
}

TEST(XmlTest, CdataBecomesText) {
  XmlError err;
  DocPtr doc = parseUntrusted("<a><![CDATA[x < y & z]]></a>", err);
  ASSERT_NE(doc, nullptr) << err.message;
  const xmlNode* child = xmlDocGetRootElement(doc.get())->children;
  ASSERT_NE(child, nullptr);
  EXPECT_EQ(child->type, XML_TEXT_NODE);
  EXPECT_STREQ(reinterpret_cast<const char*>(child->content), "x < y & z");
}

TEST(XmlTest, RejectsInternalSubsetEntity) {
  expectRejected("<!DOCTYPE a [<!ENTITY e \"boom\">]><a>&e;</a>", "parse.xml.doctype");
}

TEST(XmlTest, RejectsExternalEntityWithoutTouchingFiles) {
  LoaderSpy spy;
  // A readable file with a marker: its content must never reach the result or the error.
  std::string path = ::testing::TempDir() + "acp_xxe_marker.txt";
  {
    std::ofstream f(path);
    f << "SECRET-MARKER-4711";
  }
  const std::vector<std::string> docs = {
      "<?xml version=\"1.0\"?><!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>",
      "<!DOCTYPE a [<!ENTITY x SYSTEM \"file://" + path + "\">]><a>&x;</a>",
      "<!DOCTYPE a SYSTEM \"file://" + path + "\"><a/>",
      "<!DOCTYPE a PUBLIC \"-//X//Y\" \"http://127.0.0.1:9/evil.dtd\"><a/>",
      "<!DOCTYPE a [<!ENTITY % p SYSTEM \"file://" + path + "\"> %p;]><a/>",
      // Prolog-scanner evasion attempts.
      "\xEF\xBB\xBF  \n<!-- c --><?pi ?><!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
      "<a>&x;</a>",
      "<!doctype a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>",
      "<!ENTITY x SYSTEM \"file:///etc/passwd\"><a>&x;</a>",
  };
  for (const std::string& d : docs) {
    XmlError err;
    DocPtr doc = parseUntrusted(d, err);
    EXPECT_EQ(doc, nullptr) << d;
    EXPECT_EQ(err.issueType, "structure") << d;
    EXPECT_EQ(err.code, "parse.xml.doctype") << d << " → " << err.message;
    EXPECT_EQ(err.message.find("SECRET-MARKER"), std::string::npos);
    EXPECT_EQ(err.message.find("root:"), std::string::npos);
  }
  EXPECT_EQ(gLoads.load(), 0);
  std::remove(path.c_str());
}

TEST(XmlTest, RejectsBillionLaughs) {
  std::string doc = "<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [\n <!ENTITY lol \"lol\">\n";
  doc += " <!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n";
  for (int i = 2; i <= 9; ++i) {
    std::string prev = "&lol" + std::to_string(i - 1) + ";";
    doc += " <!ENTITY lol" + std::to_string(i) + " \"";
    for (int k = 0; k < 10; ++k) doc += prev;
    doc += "\">\n";
  }
  doc += "]>\n<lolz>&lol9;</lolz>";
  expectRejected(doc, "parse.xml.doctype");
}

TEST(XmlTest, UndeclaredEntityIsMalformed) {
  expectRejected("<a>&nbsp;</a>", "parse.xml.malformed");
  // The predefined entities and character references still work.
  XmlError err;
  DocPtr doc = parseUntrusted("<a>&amp;&lt;&#233;</a>", err);
  ASSERT_NE(doc, nullptr) << err.message;
  xmlChar* content = xmlNodeGetContent(xmlDocGetRootElement(doc.get()));
  EXPECT_EQ(std::string(reinterpret_cast<char*>(content)), "&<\xC3\xA9");
  xmlFree(content);
}

TEST(XmlTest, RejectsMalformedWithPosition) {
  XmlError err;
  DocPtr doc = parseUntrusted("<a>\n  <b>\n</a>", err);
  EXPECT_EQ(doc, nullptr);
  EXPECT_EQ(err.code, "parse.xml.malformed");
  EXPECT_EQ(err.issueType, "structure");
  EXPECT_NE(err.message.find("line 3"), std::string::npos) << err.message;
  EXPECT_NE(err.message.find("column"), std::string::npos) << err.message;

  // Messages quoting input stay short.
  XmlError longErr;
  std::string longName(5000, 'n');
  EXPECT_EQ(parseUntrusted("<" + longName + "></x>", longErr), nullptr);
  EXPECT_EQ(longErr.code, "parse.xml.malformed");
  EXPECT_LT(longErr.message.size(), 400u) << longErr.message;

  for (const char* bad : {"", "   ", "not xml", "<a>", "<a></b>", "<a/><b/>", "<a x='1' x='2'/>",
                          "<p:a/>", "<a>\xFF\xFE</a>", "<a b=c/>", "<a/>trailing"}) {
    expectRejected(bad, "parse.xml.malformed");
  }
}

TEST(XmlTest, RejectsOtherEncodings) {
  expectRejected("<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><a/>", "parse.xml.encoding");
  expectRejected("<?xml version=\"1.0\" encoding=\"UTF-7\"?>+ADw-!DOCTYPE a+AD4-<a/>",
                 "parse.xml.encoding");
  expectRejected(std::string("\xFF\xFE<\0a\0/\0>\0", 10), "parse.xml.encoding");
  expectRejected(std::string("<\0a\0/\0>\0", 8), "parse.xml.encoding");
  XmlError err;
  EXPECT_NE(parseUntrusted("<?xml version='1.0' encoding='utf-8'?><a/>", err), nullptr);
}

std::string nested(int depth) {
  std::string s;
  for (int i = 0; i < depth; ++i) s += "<a>";
  for (int i = 0; i < depth; ++i) s += "</a>";
  return s;
}

TEST(XmlTest, CapsDepth) {
  XmlError err;
  EXPECT_NE(parseUntrusted(nested(10), err, 10), nullptr) << err.message;
  expectRejected(nested(129), "parse.xml.too-deep", "too-long");
  XmlError err2;
  EXPECT_EQ(parseUntrusted(nested(11), err2, 10), nullptr);
  EXPECT_EQ(err2.code, "parse.xml.too-deep");
  EXPECT_EQ(err2.issueType, "too-long");
  // Far deeper than any stack would take if the parser recursed per level unchecked.
  expectRejected(nested(200000), "parse.xml.too-deep", "too-long");
}

TEST(XmlTest, PrintsNothingToStderr) {
  ::testing::internal::CaptureStderr();
  XmlError err;
  EXPECT_EQ(parseUntrusted("<a><b></a>", err), nullptr);
  EXPECT_EQ(parseUntrusted("<a>&e;</a>", err), nullptr);
  EXPECT_EQ(parseUntrusted("<x:a/>", err), nullptr);
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST(XmlTest, LeavesTheThreadErrorHandlerAlone) {
  xmlStructuredErrorFunc before = xmlStructuredError;
  void* beforeContext = xmlStructuredErrorContext;
  XmlError err;
  parseUntrusted("<a><b></a>", err);
  EXPECT_EQ(xmlStructuredError, before);
  EXPECT_EQ(xmlStructuredErrorContext, beforeContext);
}

TEST(XmlTest, ConcurrentParsesAreIndependent) {
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([t, &wrong] {
      for (int i = 0; i < 300; ++i) {
        XmlError err;
        switch ((i + t) % 4) {
          case 0: {
            std::string name = "r" + std::to_string(t) + "x" + std::to_string(i);
            DocPtr d = parseUntrusted("<" + name + "><b/></" + name + ">", err);
            if (!d || rootName(d) != name) ++wrong;
            break;
          }
          case 1:
            if (parseUntrusted("<a><b></a>", err) || err.code != "parse.xml.malformed") ++wrong;
            break;
          case 2:
            if (parseUntrusted("<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>", err) ||
                err.code != "parse.xml.doctype")
              ++wrong;
            break;
          default:
            if (parseUntrusted(nested(40), err, 20) || err.code != "parse.xml.too-deep") ++wrong;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
}  // namespace acp::xml
