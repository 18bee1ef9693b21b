// Pre-annotation: HOG on real coco128 images, the evaluation counts, the
// Label Studio protocol codecs, and the ml-backend server and client end to
// end over loopback (real servers on port 0, no mocks).
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "opencv2/imgcodecs.hpp"
#include "tessera/base/status.h"
#include "tessera/http/client.h"
#include "tessera/http/server.h"
#include "tessera/preannotate/chat_client.h"
#include "tessera/preannotate/detector.h"
#include "tessera/preannotate/evaluation.h"
#include "tessera/preannotate/hog_detector.h"
#include "tessera/preannotate/ml_backend_client.h"
#include "tessera/preannotate/ml_backend_protocol.h"
#include "tessera/preannotate/ml_backend_server.h"
#include "tessera/preannotate/onnx_detector.h"

namespace tessera::preannotate {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

const fs::path kImages =
    fs::path(TESSERA_SOURCE_DIR) / "tests/data/coco128/images";

// Images in which the default HOG detector finds at least one person that
// matches a gold person box at IoU >= 0.5 (from bench/preannotate.sh).
const std::vector<std::string> kPeopleImages = {"train2017/000000000077.jpg",
                                                "train2017/000000000382.jpg",
                                                "train2017/000000000569.jpg"};

cv::Mat Read(const std::string& relative) {
  cv::Mat m = cv::imread((kImages / relative).string(), cv::IMREAD_COLOR);
  EXPECT_FALSE(m.empty()) << relative;
  return m;
}

// A scratch directory removed at the end of the test.
class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            absl::StrCat("preannotate_test_", ::getpid(), "_", counter_++);
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

Detection Box(double x, double y, double w, double h, double score = 1) {
  return {"person", x, y, w, h, score};
}

TEST(IoUTest, OverlapsAndDisjoint) {
  EXPECT_DOUBLE_EQ(IoU(Box(0, 0, 10, 10), Box(0, 0, 10, 10)), 1.0);
  EXPECT_DOUBLE_EQ(IoU(Box(0, 0, 10, 10), Box(5, 0, 10, 10)), 50.0 / 150.0);
  EXPECT_DOUBLE_EQ(IoU(Box(0, 0, 10, 10), Box(10, 0, 10, 10)), 0.0);
  EXPECT_DOUBLE_EQ(IoU(Box(0, 0, 0, 10), Box(0, 0, 10, 10)), 0.0);
}

TEST(EvaluateTest, CountsDeletesMovesAndAdds) {
  std::vector<Detection> gold = {Box(0, 0, 100, 100), Box(200, 0, 100, 100),
                                 Box(400, 0, 100, 100)};
  std::vector<Detection> drafts = {
      Box(0, 0, 100, 100, 0.9),    // exact: accepted as is
      Box(210, 0, 100, 100, 0.8),  // IoU 0.82: matched, needs a move
      Box(800, 0, 50, 50, 0.7),    // nothing there: delete
  };
  EvalCounts c = Evaluate(drafts, gold);
  EXPECT_EQ(c.gold, 3);
  EXPECT_EQ(c.drafts, 3);
  EXPECT_EQ(c.true_positives, 2);
  EXPECT_EQ(c.false_positives, 1);
  EXPECT_EQ(c.misses, 1);
  EXPECT_EQ(c.moves, 1);
  EXPECT_EQ(c.EditsFromScratch(), 3);
  EXPECT_EQ(c.EditsWithDrafts(), 3);  // 1 delete + 1 move + 1 add
  EXPECT_DOUBLE_EQ(Precision(c), 2.0 / 3);
  EXPECT_DOUBLE_EQ(Recall(c), 2.0 / 3);
  EXPECT_DOUBLE_EQ(F1(c), 2.0 / 3);
}

TEST(EvaluateTest, GreedyByScoreEachGoldMatchedOnce) {
  std::vector<Detection> gold = {Box(0, 0, 100, 100)};
  // The lower-scored draft fits better but the higher-scored one claims the
  // gold box first; the other becomes a false positive.
  std::vector<Detection> drafts = {Box(0, 0, 100, 100, 0.1),
                                   Box(10, 10, 100, 100, 0.9)};
  EvalCounts c = Evaluate(drafts, gold);
  EXPECT_EQ(c.true_positives, 1);
  EXPECT_EQ(c.false_positives, 1);
  EXPECT_EQ(c.moves, 1);
  // A label mismatch never matches.
  Detection car = Box(0, 0, 100, 100);
  car.label = "car";
  EXPECT_EQ(Evaluate({car}, gold).true_positives, 0);
}

TEST(HogDetectorTest, FindsPeopleInsideTheImage) {
  auto hog = MakeHogDetector();
  ASSERT_FALSE(kPeopleImages.empty());
  for (const std::string& name : kPeopleImages) {
    cv::Mat image = Read(name);
    auto dets = hog->Detect(image);
    ASSERT_TRUE(dets.ok()) << dets.status();
    ASSERT_FALSE(dets->empty()) << name;
    for (size_t i = 0; i < dets->size(); ++i) {
      const Detection& d = (*dets)[i];
      EXPECT_EQ(d.label, "person");
      EXPECT_GE(d.x, 0);
      EXPECT_GE(d.y, 0);
      EXPECT_GT(d.w, 0);
      EXPECT_GT(d.h, 0);
      EXPECT_LE(d.x + d.w, image.cols + 1e-9) << name;
      EXPECT_LE(d.y + d.h, image.rows + 1e-9) << name;
      EXPECT_GT(d.score, 0.5);
      EXPECT_LT(d.score, 1.0);
      if (i > 0) {
        EXPECT_GE((*dets)[i - 1].score, d.score);
      }
    }
  }
}

TEST(HogDetectorTest, RejectsEmptyAndTinyImagesGiveNothing) {
  auto hog = MakeHogDetector();
  EXPECT_EQ(hog->Detect(cv::Mat()).status().code(),
            absl::StatusCode::kInvalidArgument);
  auto tiny = hog->Detect(cv::Mat(20, 20, CV_8UC3, cv::Scalar(0, 0, 0)));
  ASSERT_TRUE(tiny.ok());
  EXPECT_TRUE(tiny->empty());
  EXPECT_EQ(hog->name(), "opencv-hog-people");
  EXPECT_THAT(hog->version(), HasSubstr(CV_VERSION));
}

TEST(OnnxDetectorTest, MissingAndInvalidModelsAreClearErrors) {
  OnnxOptions options;
  options.model_path = "/nonexistent/model.onnx";
  auto missing = MakeOnnxDetector(options);
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kNotFound);
  EXPECT_THAT(missing.status().message(), HasSubstr("/nonexistent/model.onnx"));

  TempDir dir;
  options.model_path = (dir.path() / "garbage.onnx").string();
  std::ofstream(options.model_path) << "this is not a protobuf";
  auto invalid = MakeOnnxDetector(options);
  EXPECT_EQ(invalid.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(invalid.status().message(), HasSubstr("cannot load ONNX model"));

  EXPECT_EQ(MakeDetector("onnx:/nonexistent.onnx").status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(MakeDetector("yolo").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(MakeDetector("hog").ok());
}

TEST(ProtocolTest, LabelNamesFromConfig) {
  LabelNames names = LabelNamesFromConfig(
      R"(<View><Image name="img" value="$photo"/>)"
      R"(<RectangleLabels name="boxes" toName="img"><Label value="person"/>)"
      R"(</RectangleLabels></View>)");
  EXPECT_EQ(names.from_name, "boxes");
  EXPECT_EQ(names.to_name, "img");
  EXPECT_EQ(names.image_key, "photo");
  LabelNames defaults = LabelNamesFromConfig("");
  EXPECT_EQ(defaults.from_name, "label");
  EXPECT_EQ(defaults.to_name, "image");
  EXPECT_EQ(defaults.image_key, "image");
}

TEST(ProtocolTest, ParsePredictRequestNamesBadFields) {
  auto ok = ParsePredictRequest(
      R"({"tasks":[{"id":7,"data":{"image":"a.jpg"}}],"label_config":"<View/>"})");
  ASSERT_TRUE(ok.ok()) << ok.status();
  ASSERT_EQ(ok->tasks.size(), 1);
  EXPECT_EQ(ok->tasks[0].id, 7);
  EXPECT_EQ(ok->tasks[0].data["image"], "a.jpg");
  EXPECT_EQ(ok->label_config, "<View/>");

  struct Case {
    const char* body;
    const char* field;
  };
  for (const Case& c :
       {Case{"{not json", "body"}, Case{"[]", "body"},
        Case{R"({"tasks":{}})", "tasks"}, Case{R"({"tasks":[1]})", "tasks[0]"},
        Case{R"({"tasks":[{"data":"x"}]})", "tasks[0].data"}}) {
    auto r = ParsePredictRequest(c.body);
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << c.body;
    EXPECT_EQ(FieldOf(r.status()).value_or(""), c.field) << c.body;
  }
}

TEST(ProtocolTest, PredictionRoundTripsThroughPercent) {
  std::vector<Detection> boxes = {{"person", 64, 48, 128, 240, 0.8},
                                  {"dog", 0, 0, 640, 480, 0.6}};
  json pred = EncodePrediction(boxes, 640, 480, LabelNames{}, "m@1");
  EXPECT_EQ(pred["result"][0]["type"], "rectanglelabels");
  EXPECT_DOUBLE_EQ(pred["result"][0]["value"]["x"].get<double>(), 10.0);
  EXPECT_DOUBLE_EQ(pred["result"][0]["value"]["height"].get<double>(), 50.0);
  EXPECT_EQ(pred["result"][0]["original_width"], 640);
  EXPECT_DOUBLE_EQ(pred["score"].get<double>(), 0.7);
  json response = EncodePredictResponse({pred}, "m@1");
  auto back = ParsePredictResponse(response.dump(), 1);
  ASSERT_TRUE(back.ok()) << back.status();
  ASSERT_EQ(back->size(), 1);
  EXPECT_EQ((*back)[0].model_version, "m@1");
  ASSERT_EQ((*back)[0].boxes.size(), 2);
  for (size_t i = 0; i < boxes.size(); ++i) {
    const Detection& d = (*back)[0].boxes[i];
    EXPECT_EQ(d.label, boxes[i].label);
    EXPECT_NEAR(d.x, boxes[i].x, 1e-9);
    EXPECT_NEAR(d.y, boxes[i].y, 1e-9);
    EXPECT_NEAR(d.w, boxes[i].w, 1e-9);
    EXPECT_NEAR(d.h, boxes[i].h, 1e-9);
    EXPECT_DOUBLE_EQ(d.score, boxes[i].score);
  }
}

TEST(ProtocolTest, ParsePredictResponseUsesTaskSizesAndSkipsOtherTypes) {
  // Another backend's answer: no original size, a choices result, a bare
  // array (older SDKs).
  json body =
      json::array({{{"result",
                     {{{"type", "choices"}, {"value", {{"choices", {"cat"}}}}},
                      {{"type", "rectanglelabels"},
                       {"value",
                        {{"x", 50},
                         {"y", 25},
                         {"width", 10},
                         {"height", 20},
                         {"rectanglelabels", {"person"}}}}}}},
                    {"score", 0.4}}});
  auto r = ParsePredictResponse(body.dump(), 1, {ImageSize{200, 100}});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ((*r)[0].boxes.size(), 1);
  EXPECT_EQ((*r)[0].boxes[0], (Detection{"person", 100, 25, 20, 20, 0.4}));
  // Without a size the box cannot be converted.
  EXPECT_EQ(ParsePredictResponse(body.dump(), 1).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(ProtocolTest, ParsePredictResponseRejectsWrongShapes) {
  EXPECT_FALSE(ParsePredictResponse("<html>", 1).ok());
  EXPECT_FALSE(ParsePredictResponse(R"({"results":{}})", 1).ok());
  EXPECT_FALSE(ParsePredictResponse(R"({"results":[]})", 1).ok());
  EXPECT_FALSE(ParsePredictResponse(R"({"results":[{"score":1}]})", 1).ok());
  json rotated = {{"results",
                   {{{"result",
                      {{{"type", "rectanglelabels"},
                        {"original_width", 10},
                        {"original_height", 10},
                        {"value",
                         {{"x", 1},
                          {"y", 1},
                          {"width", 1},
                          {"height", 1},
                          {"rotation", 30},
                          {"rectanglelabels", {"a"}}}}}}}}}}};
  auto r = ParsePredictResponse(rotated.dump(), 1);
  EXPECT_EQ(FieldOf(r.status()).value_or(""),
            "results[0].result[0].value.rotation");
  json no_label = rotated;
  no_label["results"][0]["result"][0]["value"]["rotation"] = 0;
  no_label["results"][0]["result"][0]["value"].erase("rectanglelabels");
  EXPECT_EQ(
      FieldOf(ParsePredictResponse(no_label.dump(), 1).status()).value_or(""),
      "results[0].result[0].value.rectanglelabels");
}

// The ml-backend server in-process on a free port, over the coco128 images.
class MlBackendTest : public ::testing::Test {
 protected:
  void SetUp() override {
    MlBackendOptions options;
    options.port = 0;
    options.media_root = kImages.string();
    detector_ = MakeHogDetector();
    auto server = MlBackendServer::Start(options, detector_);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    url_ = absl::StrCat("http://127.0.0.1:", server_->port());
  }
  void TearDown() override {
    if (server_) server_->Stop();
  }

  // A raw request, for checking error bodies.
  http::ClientResponse Raw(absl::string_view method, absl::string_view path,
                           absl::string_view body = "") {
    http::HttpClient client("127.0.0.1", server_->port());
    auto r = client.Send(method, path, body);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : http::ClientResponse{};
  }

  std::shared_ptr<const Detector> detector_;
  std::unique_ptr<MlBackendServer> server_;
  std::string url_;
};

TEST_F(MlBackendTest, HealthSetupPredictMatchDirectDetection) {
  MlBackendClient client(url_);
  auto health = client.Health();
  ASSERT_TRUE(health.ok()) << health.status();
  EXPECT_EQ((*health)["model_class"], "opencv-hog-people");

  auto version = client.Setup({{"project", "1"}, {"schema", "<View/>"}});
  ASSERT_TRUE(version.ok()) << version.status();
  EXPECT_THAT(*version, HasSubstr("opencv-hog-people@"));

  std::vector<json> tasks;
  for (size_t i = 0; i < kPeopleImages.size(); ++i) {
    tasks.push_back({{"id", i}, {"data", {{"image", kPeopleImages[i]}}}});
  }
  auto predictions = client.Predict(tasks);
  ASSERT_TRUE(predictions.ok()) << predictions.status();
  ASSERT_EQ(predictions->size(), kPeopleImages.size());
  for (size_t i = 0; i < kPeopleImages.size(); ++i) {
    auto direct = detector_->Detect(Read(kPeopleImages[i]));
    ASSERT_TRUE(direct.ok());
    const TaskPrediction& p = (*predictions)[i];
    EXPECT_EQ(p.model_version, *version);
    ASSERT_EQ(p.boxes.size(), direct->size()) << kPeopleImages[i];
    ASSERT_FALSE(p.boxes.empty());
    for (size_t j = 0; j < direct->size(); ++j) {
      EXPECT_EQ(p.boxes[j].label, (*direct)[j].label);
      EXPECT_NEAR(p.boxes[j].x, (*direct)[j].x, 1e-6);
      EXPECT_NEAR(p.boxes[j].y, (*direct)[j].y, 1e-6);
      EXPECT_NEAR(p.boxes[j].w, (*direct)[j].w, 1e-6);
      EXPECT_NEAR(p.boxes[j].h, (*direct)[j].h, 1e-6);
      EXPECT_DOUBLE_EQ(p.boxes[j].score, (*direct)[j].score);
    }
  }
}

TEST_F(MlBackendTest, LabelConfigNamesTheImageKeyAndResultNames) {
  const std::string config =
      R"(<View><Image name="img" value="$photo"/>)"
      R"(<RectangleLabels name="boxes" toName="img"/></View>)";
  json body = EncodePredictRequest(
      {{{"id", 1}, {"data", {{"photo", kPeopleImages[0]}}}}}, config);
  http::ClientResponse r = Raw("POST", "/predict", body.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  json j = json::parse(r.body);
  ASSERT_FALSE(j["results"][0]["result"].empty());
  EXPECT_EQ(j["results"][0]["result"][0]["from_name"], "boxes");
  EXPECT_EQ(j["results"][0]["result"][0]["to_name"], "img");
  cv::Mat image = Read(kPeopleImages[0]);
  EXPECT_EQ(j["results"][0]["result"][0]["original_width"], image.cols);

  // /setup remembers a config for /predict calls that send none.
  ASSERT_EQ(Raw("POST", "/setup", json{{"schema", config}}.dump()).status, 200);
  json plain = EncodePredictRequest(
      {{{"id", 1}, {"data", {{"photo", kPeopleImages[0]}}}}});
  r = Raw("POST", "/predict", plain.dump());
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["results"][0]["result"][0]["from_name"],
            "boxes");
}

TEST_F(MlBackendTest, BadRequestsGetJsonErrors) {
  struct Case {
    std::string body;
    int status;
    std::string field;
  };
  auto task = [](const std::string& image) {
    return json{{"tasks", {{{"data", {{"image", image}}}}}}}.dump();
  };
  const std::vector<Case> cases = {
      {"{oops", 400, "body"},
      {R"({"no_tasks":1})", 400, "tasks"},
      {R"({"tasks":[{"data":{}}]})", 400, "tasks[0].data.image"},
      {task("../labels/train2017/000000000036.txt"), 400,
       "tasks[0].data.image"},
      {task("train2017/../../labels/x.jpg"), 400, "tasks[0].data.image"},
      {task("/etc/passwd"), 400, "tasks[0].data.image"},
      {task("train2017/nope.jpg"), 404, "tasks[0].data.image"},
      {task("https://example.com/a.jpg"), 400, "tasks[0].data.image"},
      {task("http://10.0.0.1/a.jpg"), 400, "tasks[0].data.image"},
  };
  for (const Case& c : cases) {
    http::ClientResponse r = Raw("POST", "/predict", c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
    json j = json::parse(r.body, nullptr, false);
    ASSERT_TRUE(j.is_object()) << r.body;
    EXPECT_EQ(j["error"]["field"], c.field) << c.body;
    EXPECT_TRUE(j["error"]["message"].is_string());
  }
  EXPECT_EQ(Raw("POST", "/setup", "[1,2]").status, 400);
  EXPECT_EQ(Raw("POST", "/setup", R"({"schema":5})").status, 400);
  EXPECT_EQ(Raw("GET", "/predict").status, 405);
  EXPECT_EQ(Raw("GET", "/nothing").status, 404);

  // The client surfaces a 4xx as kInvalidArgument with the server's message.
  MlBackendClient client(url_);
  auto r = client.Predict({{{"data", {{"image", "/etc/passwd"}}}}});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("absolute paths"));
}

TEST(MlBackendMediaTest, UndecodableImageIs400) {
  TempDir media;
  std::ofstream(media.path() / "bad.jpg") << "not a jpeg";
  MlBackendOptions options;
  options.port = 0;
  options.media_root = media.path().string();
  auto server = MlBackendServer::Start(options);
  ASSERT_TRUE(server.ok()) << server.status();
  MlBackendClient client(absl::StrCat("http://127.0.0.1:", (*server)->port()));
  auto r = client.Predict({{{"data", {{"image", "bad.jpg"}}}}});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("cannot decode"));
}

TEST(MlBackendMediaTest, StartRejectsMissingMediaRootAndUnknownModel) {
  MlBackendOptions options;
  options.port = 0;
  options.media_root = "/nonexistent/media";
  EXPECT_EQ(MlBackendServer::Start(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(RunMlBackend(options), 1);
  options.media_root = kImages.string();
  options.model = "onnx:/nonexistent.onnx";
  EXPECT_EQ(MlBackendServer::Start(options).status().code(),
            absl::StatusCode::kNotFound);
}

// An HTTP server (tessera_http's) standing in for another backend or an image
// host: every request gets `handler`'s answer.
class FakeHttp {
 public:
  explicit FakeHttp(http::Handler handler) {
    http::ServerOptions options;
    options.port = 0;
    options.worker_threads = 2;
    auto server = http::Server::Start(options, std::move(handler), nullptr);
    EXPECT_TRUE(server.ok()) << server.status();
    if (server.ok()) server_ = std::move(*server);
  }
  ~FakeHttp() {
    if (server_) server_->Stop();
  }
  std::string url() const {
    return absl::StrCat("http://127.0.0.1:", server_->port());
  }

 private:
  std::unique_ptr<http::Server> server_;
};

TEST_F(MlBackendTest, FetchesLoopbackImageUrls) {
  std::ifstream in(kImages / kPeopleImages[0], std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)),
                    std::istreambuf_iterator<char>());
  FakeHttp images([&](http::Request& req) {
    if (req.path != "/img/a.jpg") return http::Response::Text(404, "no");
    return http::Response::Text(200, bytes, "image/jpeg");
  });
  MlBackendClient client(url_);
  auto r = client.Predict({{{"data", {{"image", images.url() + "/img/a.jpg"}}}},
                           {{"data", {{"image", kPeopleImages[0]}}}}});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_FALSE((*r)[0].boxes.empty());
  EXPECT_EQ((*r)[0].boxes, (*r)[1].boxes);
  auto missing =
      client.Predict({{{"data", {{"image", images.url() + "/img/b.jpg"}}}}});
  EXPECT_EQ(missing.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(missing.status().message(), HasSubstr("HTTP 404"));
}

TEST(MlBackendClientTest, BadBackendAnswersAreClearErrors) {
  std::string answer;
  int status = 200;
  FakeHttp backend([&](http::Request&) {
    return http::Response::Text(status, answer, "application/json");
  });
  MlBackendClient client(backend.url());
  const std::vector<json> one_task = {
      {{"id", 1}, {"data", {{"image", "x.jpg"}}}}};

  answer = "<html>oops</html>";
  auto r = client.Predict(one_task);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(r.status().message(), HasSubstr("not JSON"));

  answer = R"({"results":[]})";
  r = client.Predict(one_task);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(r.status().message(), HasSubstr("0 predictions for 1 tasks"));

  answer = R"({"status":"DOWN"})";
  EXPECT_EQ(client.Health().status().code(), absl::StatusCode::kInternal);
  answer = R"({"nothing":1})";
  EXPECT_EQ(client.Setup({}).status().code(), absl::StatusCode::kInternal);

  status = 500;
  answer = R"({"error":{"code":"internal","message":"model crashed"}})";
  r = client.Predict(one_task);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_THAT(r.status().message(), HasSubstr("model crashed"));

  status = 422;
  answer = R"({"detail":"bad task"})";
  r = client.Predict(one_task);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(r.status().message(), HasSubstr("bad task"));
}

TEST(MlBackendClientTest, TimeoutUnreachableAndBadUrl) {
  absl::Notification release;
  FakeHttp slow([&](http::Request&) {
    release.WaitForNotificationWithTimeout(absl::Seconds(30));
    return http::Response::Json(200, {{"status", "UP"}});
  });
  MlBackendClientOptions options;
  options.timeout = absl::Milliseconds(200);
  auto r = MlBackendClient(slow.url(), options).Health();
  release.Notify();
  EXPECT_EQ(r.status().code(), absl::StatusCode::kDeadlineExceeded);

  // A port nothing listens on: bind one, note it, close it.
  uint16_t dead_port;
  {
    FakeHttp gone([](http::Request&) { return http::Response::NoContent(); });
    dead_port = static_cast<uint16_t>(
        std::stoi(gone.url().substr(gone.url().rfind(':') + 1)));
  }
  EXPECT_EQ(MlBackendClient(absl::StrCat("http://127.0.0.1:", dead_port))
                .Health()
                .status()
                .code(),
            absl::StatusCode::kUnavailable);
  EXPECT_EQ(MlBackendClient("https://127.0.0.1:1").Health().status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(MlBackendClient("http://:80").Health().status().code(),
            absl::StatusCode::kInvalidArgument);
}

// A tiny OpenAI-compatible server: answers POST /v1/chat/completions with
// the last user message reversed, and records what it was sent.
TEST(ChatClientTest, DraftsRewriteAndReferenceFromAChatServer) {
  absl::Mutex mu;
  std::vector<json> seen;
  std::string auth;
  FakeHttp llm([&](http::Request& req) {
    if (req.method != "POST" || req.path != "/v1/chat/completions") {
      return http::Response::Json(404, {{"error", "no such route"}});
    }
    json body = json::parse(req.body);
    {
      absl::MutexLock lock(&mu);
      seen.push_back(body);
      auth = req.Header("authorization").value_or("");
    }
    std::string last = body["messages"].back()["content"];
    std::string reversed(last.rbegin(), last.rend());
    return http::Response::Json(
        200, {{"id", "c1"},
              {"object", "chat.completion"},
              {"choices",
               {{{"index", 0},
                 {"message", {{"role", "assistant"}, {"content", reversed}}},
                 {"finish_reason", "stop"}}}}});
  });
  ChatClientOptions options;
  options.model = "tiny";
  options.api_key = "k";
  ChatCompletionsClient client(llm.url(), options);

  auto reference = DraftReference(client, "abc");
  ASSERT_TRUE(reference.ok()) << reference.status();
  EXPECT_EQ(*reference, "cba");
  auto rewrite = DraftRewrite(client, "Q", "A");
  ASSERT_TRUE(rewrite.ok()) << rewrite.status();
  EXPECT_EQ(*rewrite, "A\n:ylpeR\n\nQ\n:tpmorP");

  absl::MutexLock lock(&mu);
  ASSERT_EQ(seen.size(), 2);
  EXPECT_EQ(seen[0]["model"], "tiny");
  EXPECT_EQ(seen[0]["messages"].size(), 1);
  EXPECT_EQ(seen[0]["messages"][0]["role"], "user");
  EXPECT_EQ(seen[1]["messages"][0]["role"], "system");
  EXPECT_EQ(auth, "Bearer k");
}

TEST(ChatClientTest, BadAnswersAreClearErrors) {
  int status = 200;
  std::string answer;
  FakeHttp llm([&](http::Request&) {
    return http::Response::Text(status, answer, "application/json");
  });
  ChatCompletionsClient client(llm.url());
  answer = R"({"choices":[]})";
  auto r = DraftReference(client, "x");
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInternal);
  EXPECT_THAT(r.status().message(), HasSubstr("choices[0].message.content"));
  answer = "not json";
  EXPECT_EQ(DraftReference(client, "x").status().code(),
            absl::StatusCode::kInternal);
  status = 503;
  EXPECT_EQ(DraftReference(client, "x").status().code(),
            absl::StatusCode::kUnavailable);
  status = 401;
  EXPECT_EQ(DraftReference(client, "x").status().code(),
            absl::StatusCode::kInvalidArgument);
}

// RunMlBackend as the subcommand runs it: in a forked child with stdout on a
// pipe; it announces its port, serves, and exits 0 on SIGTERM.
class RunMlBackendTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (pid_ > 0) {  // the test failed before reaping the child
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (read_fd_ >= 0) close(read_fd_);
  }

  // The child's first stdout line (without the newline), or "" after 30 s.
  std::string ReadLine() {
    std::string line;
    char c;
    while (line.size() < 200) {
      pollfd p{read_fd_, POLLIN, 0};
      if (poll(&p, 1, 30000) <= 0 || read(read_fd_, &c, 1) != 1) return "";
      if (c == '\n') return line;
      line.push_back(c);
    }
    return line;
  }

  pid_t pid_ = -1;
  int read_fd_ = -1;
};

TEST_F(RunMlBackendTest, AnnouncesPortAndStopsOnSigterm) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  pid_ = fork();
  ASSERT_GE(pid_, 0);
  if (pid_ == 0) {
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    close(fds[1]);
    MlBackendOptions options;
    options.port = 0;
    options.media_root = kImages.string();
    _exit(RunMlBackend(options));
  }
  close(fds[1]);
  read_fd_ = fds[0];
  const std::string line = ReadLine();
  ASSERT_THAT(line, ::testing::StartsWith("serving on 127.0.0.1:"));
  const std::string port = line.substr(line.rfind(':') + 1);
  auto health =
      MlBackendClient(absl::StrCat("http://127.0.0.1:", port)).Health();
  EXPECT_TRUE(health.ok()) << health.status();

  ASSERT_EQ(kill(pid_, SIGTERM), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid_, &status, 0), pid_);
  pid_ = -1;
  ASSERT_TRUE(WIFEXITED(status)) << status;
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

}  // namespace
}  // namespace tessera::preannotate
