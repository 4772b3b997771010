// SigV4 against the worked examples of AWS's S3 documentation ("Signature Calculations for the
// Authorization Header", example credentials, 2013-05-24T00:00:00Z, us-east-1): each signature was
// computed by AWS, not by us.
#include "objstore/sigv4.h"

#include <gtest/gtest.h>

#include "common/status.h"

namespace nobus::objstore {
namespace {

const Credentials kExample{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", ""};
constexpr int64_t kExampleTime = 1369353600;  // 20130524T000000Z
const char kEmptySha[] = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

std::string Authorization(const Headers& added) {
  for (const auto& [k, v] : added)
    if (k == "Authorization") return v;
  return "";
}

// Authorization of AWS's example `request`, for the signed header list and signature given.
std::string Expected(const char* signed_headers, const char* signature) {
  return Cat("AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
             "SignedHeaders=", signed_headers, ",Signature=", signature);
}

const Headers kHost = {{"Host", "examplebucket.s3.amazonaws.com"}};

TEST(SigV4Test, AwsDocumentationExamples) {
  struct Example {
    const char* what;
    RequestToSign request;
    std::string authorization;
  };
  Headers range = kHost, put = kHost;
  range.emplace_back("Range", "bytes=0-9");
  put.emplace_back("Date", "Fri, 24 May 2013 00:00:00 GMT");
  put.emplace_back("x-amz-storage-class", "REDUCED_REDUNDANCY");
  const Example examples[] = {
      {"GET Object with a range",
       {.method = "GET", .path = "/test.txt", .headers = range, .payload_sha256 = kEmptySha},
       Expected("host;range;x-amz-content-sha256;x-amz-date",
                "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41")},
      {"PUT Object with an encoded key and a body",
       {.method = "PUT", .path = "/test$file.text", .headers = put,
        .payload_sha256 = Sha256Hex("Welcome to Amazon S3.")},
       Expected("date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class",
                "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd")},
      {"GET Bucket with query parameters (sorted when signed)",
       {.method = "GET", .path = "/", .query = {{"prefix", "J"}, {"max-keys", "2"}},
        .headers = kHost, .payload_sha256 = kEmptySha},
       Expected("host;x-amz-content-sha256;x-amz-date",
                "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7")},
      {"GET Bucket lifecycle: a query key without a value",
       {.method = "GET", .path = "/", .query = {{"lifecycle", ""}}, .headers = kHost,
        .payload_sha256 = kEmptySha},
       Expected("host;x-amz-content-sha256;x-amz-date",
                "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543")},
  };
  for (const Example& e : examples)
    EXPECT_EQ(Authorization(SignV4(e.request, kExample, "us-east-1", "s3", kExampleTime)),
              e.authorization)
        << e.what;
  EXPECT_EQ(examples[1].request.payload_sha256,
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_NE(CanonicalRequest(examples[1].request).find("\n/test%24file.text\n"), std::string::npos);
}

TEST(SigV4Test, ASessionTokenIsSentAndSigned) {
  Credentials temporary = kExample;
  temporary.session_token = "token/with+chars";
  RequestToSign r{.method = "GET", .path = "/k", .headers = {{"host", "h"}},
                  .payload_sha256 = kEmptySha};
  Headers added = SignV4(r, temporary, "us-east-1", "s3", kExampleTime);
  bool has_token = false;
  for (const auto& [k, v] : added) has_token |= k == "x-amz-security-token" && v == "token/with+chars";
  EXPECT_TRUE(has_token);
  EXPECT_NE(Authorization(added).find("SignedHeaders=host;x-amz-content-sha256;x-amz-date;"
                                      "x-amz-security-token,"),
            std::string::npos);
  EXPECT_NE(Authorization(added), Authorization(SignV4(r, kExample, "us-east-1", "s3", kExampleTime)));
}

TEST(SigV4Test, UriEncodingKeepsUnreservedCharactersAndSlashesInPaths) {
  EXPECT_EQ(UriEncode("a/b c+d=e~f_g.h-i", false), "a/b%20c%2Bd%3De~f_g.h-i");
  EXPECT_EQ(UriEncode("a/b", true), "a%2Fb");
  EXPECT_EQ(UriEncode("\xc3\xa9", false), "%C3%A9");
}

}  // namespace
}  // namespace nobus::objstore
