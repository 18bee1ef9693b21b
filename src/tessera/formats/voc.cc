// Pascal VOC XML: a small XML reader (elements, text, entities, comments,
// CDATA; attributes skipped) and writer for the VOC subset.
#include "tessera/formats/voc.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "tessera/base/status.h"

namespace tessera::formats {
namespace {

namespace fs = std::filesystem;

struct XmlNode {
  std::string name;
  std::string text;  // concatenated character data, entities decoded
  int line = 0;
  std::vector<XmlNode> children;

  const XmlNode* Child(absl::string_view n) const {
    for (const XmlNode& c : children) {
      if (c.name == n) return &c;
    }
    return nullptr;
  }
};

class XmlParser {
 public:
  XmlParser(absl::string_view text, absl::string_view file)
      : s_(text), file_(file) {}

  absl::StatusOr<XmlNode> ParseDocument() {
    if (absl::StartsWith(s_, "\xEF\xBB\xBF")) pos_ = 3;
    TS_RETURN_IF_ERROR(SkipMisc());
    if (pos_ >= s_.size() || s_[pos_] != '<') {
      return Error("expected the root element");
    }
    XmlNode root;
    TS_RETURN_IF_ERROR(ParseElement(root, 0));
    TS_RETURN_IF_ERROR(SkipMisc());
    if (pos_ < s_.size()) return Error("content after the root element");
    return root;
  }

 private:
  absl::Status Error(absl::string_view message) const {
    return LocatedError(file_, line_, "",
                        absl::StrCat("malformed XML: ", message));
  }

  void Advance(size_t n) {
    for (size_t i = 0; i < n && pos_ < s_.size(); ++i) {
      if (s_[pos_++] == '\n') ++line_;
    }
  }

  bool StartsAt(absl::string_view p) const {
    return s_.substr(pos_, p.size()) == p;
  }

  // Skips past `end`, failing with `what` when it never comes.
  absl::Status SkipPast(absl::string_view end, absl::string_view what) {
    size_t found = s_.find(end, pos_);
    if (found == absl::string_view::npos) {
      return Error(absl::StrCat("unterminated ", what));
    }
    Advance(found + end.size() - pos_);
    return absl::OkStatus();
  }

  // Whitespace, comments, processing instructions and DOCTYPE.
  absl::Status SkipMisc() {
    while (pos_ < s_.size()) {
      if (absl::ascii_isspace(static_cast<unsigned char>(s_[pos_]))) {
        Advance(1);
      } else if (StartsAt("<!--")) {
        TS_RETURN_IF_ERROR(SkipPast("-->", "comment"));
      } else if (StartsAt("<?")) {
        TS_RETURN_IF_ERROR(SkipPast("?>", "<? ?> declaration"));
      } else if (StartsAt("<!DOCTYPE")) {
        TS_RETURN_IF_ERROR(SkipPast(">", "DOCTYPE"));
      } else {
        break;
      }
    }
    return absl::OkStatus();
  }

  static bool NameChar(char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
           c == '-' || c == '.' || c == ':' ||
           static_cast<unsigned char>(c) >= 0x80;
  }

  absl::StatusOr<std::string> ParseName() {
    size_t start = pos_;
    while (pos_ < s_.size() && NameChar(s_[pos_])) ++pos_;
    if (pos_ == start) return Error("expected an element name");
    return std::string(s_.substr(start, pos_ - start));
  }

  absl::Status DecodeEntity(std::string& out) {
    size_t semi = s_.find(';', pos_);
    if (semi == absl::string_view::npos || semi - pos_ > 12) {
      return Error("'&' must start an entity such as &amp;");
    }
    absl::string_view ent = s_.substr(pos_ + 1, semi - pos_ - 1);
    if (ent == "lt") {
      out.push_back('<');
    } else if (ent == "gt") {
      out.push_back('>');
    } else if (ent == "amp") {
      out.push_back('&');
    } else if (ent == "quot") {
      out.push_back('"');
    } else if (ent == "apos") {
      out.push_back('\'');
    } else if (absl::StartsWith(ent, "#")) {
      uint32_t cp = 0;
      bool ok = ent.size() > 1 && (ent[1] == 'x' || ent[1] == 'X')
                    ? absl::SimpleHexAtoi(ent.substr(2), &cp)
                    : absl::SimpleAtoi(ent.substr(1), &cp);
      if (!ok || cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
        return Error(absl::StrCat("bad character reference &", ent, ";"));
      }
      if (cp < 0x80) {
        out.push_back(static_cast<char>(cp));
      } else if (cp < 0x800) {
        out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      } else if (cp < 0x10000) {
        out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      } else {
        out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      }
    } else {
      return Error(absl::StrCat("unknown entity &", ent, ";"));
    }
    Advance(semi + 1 - pos_);
    return absl::OkStatus();
  }

  // At '<' of a start tag.
  absl::Status ParseElement(XmlNode& node, int depth) {
    if (depth > 64) return Error("elements nested too deeply");
    node.line = line_;
    Advance(1);
    TS_ASSIGN_OR_RETURN(node.name, ParseName());
    // Attributes are skipped (quoted values may hold '>').
    while (true) {
      if (pos_ >= s_.size()) {
        return Error(absl::StrCat("unterminated <", node.name, "> tag"));
      }
      char c = s_[pos_];
      if (c == '"' || c == '\'') {
        size_t close = s_.find(c, pos_ + 1);
        if (close == absl::string_view::npos) {
          return Error("unterminated attribute value");
        }
        Advance(close + 1 - pos_);
      } else if (StartsAt("/>")) {
        Advance(2);
        return absl::OkStatus();
      } else if (c == '>') {
        Advance(1);
        break;
      } else {
        Advance(1);
      }
    }
    while (true) {
      if (pos_ >= s_.size()) {
        return Error(absl::StrCat("<", node.name, "> (line ", node.line,
                                  ") is never closed"));
      }
      char c = s_[pos_];
      if (c == '&') {
        TS_RETURN_IF_ERROR(DecodeEntity(node.text));
      } else if (c != '<') {
        node.text.push_back(c);
        Advance(1);
      } else if (StartsAt("<!--")) {
        TS_RETURN_IF_ERROR(SkipPast("-->", "comment"));
      } else if (StartsAt("<![CDATA[")) {
        size_t end = s_.find("]]>", pos_);
        if (end == absl::string_view::npos) return Error("unterminated CDATA");
        node.text.append(s_.data() + pos_ + 9, end - pos_ - 9);
        Advance(end + 3 - pos_);
      } else if (StartsAt("<?")) {
        TS_RETURN_IF_ERROR(SkipPast("?>", "<? ?> instruction"));
      } else if (StartsAt("</")) {
        Advance(2);
        TS_ASSIGN_OR_RETURN(std::string name, ParseName());
        if (name != node.name) {
          return Error(absl::StrCat("</", name, "> closes <", node.name,
                                    "> (line ", node.line, ")"));
        }
        while (pos_ < s_.size() &&
               absl::ascii_isspace(static_cast<unsigned char>(s_[pos_]))) {
          Advance(1);
        }
        if (pos_ >= s_.size() || s_[pos_] != '>') {
          return Error(absl::StrCat("expected '>' after </", name));
        }
        Advance(1);
        return absl::OkStatus();
      } else {
        node.children.emplace_back();
        TS_RETURN_IF_ERROR(ParseElement(node.children.back(), depth + 1));
      }
    }
  }

  absl::string_view s_;
  absl::string_view file_;
  size_t pos_ = 0;
  int line_ = 1;
};

void AppendXmlText(std::string& out, absl::string_view s) {
  for (char c : s) {
    switch (c) {
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '&':
        out += "&amp;";
        break;
      case '"':
        out += "&quot;";
        break;
      case '\'':
        out += "&apos;";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' &&
            c != '\r') {
          // Not representable in XML 1.0; written as a character reference
          // our reader accepts.
          absl::StrAppend(&out, "&#", static_cast<int>(c), ";");
        } else {
          out.push_back(c);
        }
    }
  }
}

// The child `name` of `node`, or an error naming `path`.`name`.
absl::StatusOr<const XmlNode*> Need(const XmlNode& node, absl::string_view name,
                                    absl::string_view path,
                                    absl::string_view file) {
  const XmlNode* c = node.Child(name);
  if (c == nullptr) {
    return LocatedError(file, node.line, absl::StrCat(path, ".", name),
                        absl::StrCat("<", node.name, "> has no <", name, ">"));
  }
  return c;
}

absl::StatusOr<double> NumberOf(const XmlNode& node, absl::string_view field,
                                absl::string_view file) {
  std::optional<double> v = ParseDouble(absl::StripAsciiWhitespace(node.text));
  if (!v) {
    return LocatedError(
        file, node.line, field,
        absl::StrCat("<", node.name, "> \"", node.text, "\" is not a number"));
  }
  return *v;
}

std::string BaseName(absl::string_view path) {
  size_t slash = path.rfind('/');
  return std::string(slash == absl::string_view::npos ? path
                                                      : path.substr(slash + 1));
}

class VocWriter : public DetectionWriter {
 public:
  explicit VocWriter(FileTreeSink& sink) : sink_(sink) {}

  absl::Status Begin(const std::vector<std::string>& classes) override {
    TS_ASSIGN_OR_RETURN(index_, IndexClasses(classes, "classes"));
    classes_ = classes;
    return absl::OkStatus();
  }

  absl::Status Add(const DetectionImage& image) override {
    for (size_t i = 0; i < image.boxes.size(); ++i) {
      if (!index_.contains(image.boxes[i].label)) {
        return absl::InvalidArgumentError(
            absl::StrCat(image.file, ": box ", i, " has unknown class \"",
                         image.boxes[i].label, "\""));
      }
    }
    std::string path = SidecarPath(image.file, ".xml");
    if (!written_.insert(path).second) {
      return absl::InvalidArgumentError(absl::StrCat(
          image.file, ": a second image maps to the annotation file ", path));
    }
    TS_ASSIGN_OR_RETURN(std::string xml, FormatVocXml(image));
    return sink_.WriteFile(path, xml);
  }

  absl::Status Finish() override {
    std::string text;
    for (const std::string& c : classes_) absl::StrAppend(&text, c, "\n");
    return sink_.WriteFile("classes.txt", text);
  }

 private:
  FileTreeSink& sink_;
  std::vector<std::string> classes_;
  absl::flat_hash_map<std::string, int> index_;
  absl::flat_hash_set<std::string> written_;
};

}  // namespace

absl::StatusOr<DetectionImage> ParseVocXml(absl::string_view xml,
                                           absl::string_view file) {
  XmlParser parser(xml, file);
  TS_ASSIGN_OR_RETURN(XmlNode root, parser.ParseDocument());
  if (root.name != "annotation") {
    return LocatedError(file, root.line, root.name,
                        absl::StrCat("root element is <", root.name,
                                     ">, expected <annotation>"));
  }
  DetectionImage image;
  TS_ASSIGN_OR_RETURN(const XmlNode* filename,
                      Need(root, "filename", "annotation", file));
  image.file = std::string(absl::StripAsciiWhitespace(filename->text));
  if (image.file.empty()) {
    return LocatedError(file, filename->line, "annotation.filename",
                        "empty <filename>");
  }
  TS_ASSIGN_OR_RETURN(const XmlNode* size,
                      Need(root, "size", "annotation", file));
  for (const char* key : {"width", "height"}) {
    std::string field = absl::StrCat("annotation.size.", key);
    TS_ASSIGN_OR_RETURN(const XmlNode* n,
                        Need(*size, key, "annotation.size", file));
    TS_ASSIGN_OR_RETURN(double v, NumberOf(*n, field, file));
    if (v <= 0 || v != std::floor(v) || v > (1 << 30)) {
      return LocatedError(file, n->line, field,
                          absl::StrCat("image ", key,
                                       " must be a positive "
                                       "integer, got ",
                                       n->text));
    }
    (key[0] == 'w' ? image.width : image.height) = static_cast<int>(v);
  }
  int object_index = 0;
  for (const XmlNode& object : root.children) {
    if (object.name != "object") continue;
    std::string path = absl::StrCat("annotation.object[", object_index++, "]");
    TS_ASSIGN_OR_RETURN(const XmlNode* name, Need(object, "name", path, file));
    Box box;
    box.label = std::string(absl::StripAsciiWhitespace(name->text));
    if (box.label.empty()) {
      return LocatedError(file, name->line, absl::StrCat(path, ".name"),
                          "empty <name>");
    }
    TS_ASSIGN_OR_RETURN(const XmlNode* bndbox,
                        Need(object, "bndbox", path, file));
    std::string bpath = absl::StrCat(path, ".bndbox");
    double v[4];
    const char* keys[] = {"xmin", "ymin", "xmax", "ymax"};
    for (int k = 0; k < 4; ++k) {
      TS_ASSIGN_OR_RETURN(const XmlNode* n,
                          Need(*bndbox, keys[k], bpath, file));
      TS_ASSIGN_OR_RETURN(
          v[k], NumberOf(*n, absl::StrCat(bpath, ".", keys[k]), file));
    }
    box.x = v[0];
    box.y = v[1];
    box.w = v[2] - v[0];
    box.h = v[3] - v[1];
    if (box.w < 0 || box.h < 0) {
      return LocatedError(file, bndbox->line,
                          absl::StrCat(bpath, box.w < 0 ? ".xmax" : ".ymax"),
                          box.w < 0 ? "box has negative size (xmax < xmin)"
                                    : "box has negative size (ymax < ymin)");
    }
    std::string bad = CheckBox(box, image.width, image.height);
    if (!bad.empty()) return LocatedError(file, bndbox->line, bpath, bad);
    image.boxes.push_back(std::move(box));
  }
  return image;
}

absl::StatusOr<std::string> FormatVocXml(const DetectionImage& image) {
  if (image.width <= 0 || image.height <= 0) {
    return absl::InvalidArgumentError(
        absl::StrCat(image.file, ": image size ", image.width, "x",
                     image.height, " must be positive"));
  }
  std::string out = "<annotation>\n  <filename>";
  absl::string_view name = image.file;
  if (absl::StrContains(name, "://")) {
    name = name.substr(0, name.find_first_of("?#"));
  }
  AppendXmlText(out, BaseName(name));
  absl::StrAppend(&out, "</filename>\n  <size>\n    <width>", image.width,
                  "</width>\n    <height>", image.height,
                  "</height>\n  </size>\n");
  for (size_t i = 0; i < image.boxes.size(); ++i) {
    const Box& b = image.boxes[i];
    if (b.label.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(image.file, ": box ", i, " has an empty label"));
    }
    std::string bad = CheckBox(b, image.width, image.height);
    if (!bad.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat(image.file, ": box ", i, ": ", bad));
    }
    out += "  <object>\n    <name>";
    AppendXmlText(out, b.label);
    out +=
        "</name>\n    <pose>Unspecified</pose>\n    <truncated>0</truncated>\n"
        "    <difficult>0</difficult>\n    <bndbox>\n      <xmin>";
    AppendDouble(out, b.x);
    out += "</xmin>\n      <ymin>";
    AppendDouble(out, b.y);
    out += "</ymin>\n      <xmax>";
    AppendDouble(out, b.x + b.w);
    out += "</xmax>\n      <ymax>";
    AppendDouble(out, b.y + b.h);
    out += "</ymax>\n    </bndbox>\n  </object>\n";
  }
  out += "</annotation>\n";
  return out;
}

absl::StatusOr<DetectionDataset> ReadVoc(const std::string& dir,
                                         const ReadOptions& options) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir, ": not a directory of VOC XML files"));
  }
  std::vector<std::string> files;
  for (fs::recursive_directory_iterator it(dir, ec), end; it != end;
       it.increment(ec)) {
    if (ec) break;
    if (it->is_regular_file(ec) && it->path().extension() == ".xml") {
      files.push_back(it->path().lexically_relative(dir).generic_string());
    }
  }
  if (ec) {
    return absl::InvalidArgumentError(
        absl::StrCat(dir, ": cannot list: ", ec.message()));
  }
  std::sort(files.begin(), files.end());
  DetectionDataset out;
  absl::flat_hash_map<std::string, std::string> seen;  // image file -> xml
  for (const std::string& rel : files) {
    std::string path = (fs::path(dir) / rel).string();
    absl::StatusOr<DetectionImage> image =
        [&]() -> absl::StatusOr<DetectionImage> {
      std::ifstream in(path, std::ios::binary);
      if (!in)
        return absl::InvalidArgumentError(absl::StrCat(path, ": cannot read"));
      std::stringstream ss;
      ss << in.rdbuf();
      TS_ASSIGN_OR_RETURN(DetectionImage image, ParseVocXml(ss.str(), path));
      size_t slash = rel.rfind('/');
      if (slash != std::string::npos) {
        image.file = absl::StrCat(rel.substr(0, slash + 1), image.file);
      }
      auto [it, inserted] = seen.emplace(image.file, path);
      if (!inserted) {
        return LocatedError(path, 0, "annotation.filename",
                            absl::StrCat("image ", image.file,
                                         " is also annotated by ", it->second));
      }
      return image;
    }();
    if (!image.ok()) {
      if (!options.skip_invalid) return image.status();
      out.warnings.push_back(
          absl::StrCat("skipped: ", image.status().message()));
      continue;
    }
    out.images.push_back(*std::move(image));
  }
  std::string classes_file = options.classes_file;
  if (classes_file.empty() &&
      fs::is_regular_file(fs::path(dir) / "classes.txt", ec)) {
    classes_file = (fs::path(dir) / "classes.txt").string();
  }
  if (classes_file.empty()) {
    ClassesFromLabels(out);
  } else {
    TS_ASSIGN_OR_RETURN(std::vector<std::string> classes,
                        ReadClassesFile(classes_file));
    TS_RETURN_IF_ERROR(ApplyClassList(out, classes, classes_file));
  }
  return out;
}

std::unique_ptr<DetectionWriter> MakeVocWriter(FileTreeSink& sink) {
  return std::make_unique<VocWriter>(sink);
}

}  // namespace tessera::formats
