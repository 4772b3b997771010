// SigV4 against the worked examples of AWS's S3 documentation ("Signature Calculations for the
// Authorization Header", example credentials, 2013-05-24T00:00:00Z, us-east-1): each signature was
// computed by AWS, not by us.
#include "objstore/sigv4.h"

#include <gtest/gtest.h>

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

TEST(SigV4Test, GetObjectWithRange) {
  RequestToSign r{.method = "GET", .path = "/test.txt",
                  .headers = {{"Host", "examplebucket.s3.amazonaws.com"}, {"Range", "bytes=0-9"}},
                  .payload_sha256 = kEmptySha};
  EXPECT_EQ(Authorization(SignV4(r, kExample, "us-east-1", "s3", kExampleTime)),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,"
            "Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
}

TEST(SigV4Test, PutObjectWithAnEncodedKeyAndABody) {
  std::string body = "Welcome to Amazon S3.";
  RequestToSign r{.method = "PUT", .path = "/test$file.text",
                  .headers = {{"Host", "examplebucket.s3.amazonaws.com"},
                              {"Date", "Fri, 24 May 2013 00:00:00 GMT"},
                              {"x-amz-storage-class", "REDUCED_REDUNDANCY"}},
                  .payload_sha256 = Sha256Hex(body)};
  EXPECT_EQ(r.payload_sha256, "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_NE(CanonicalRequest(r).find("\n/test%24file.text\n"), std::string::npos);
  EXPECT_EQ(Authorization(SignV4(r, kExample, "us-east-1", "s3", kExampleTime)),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,"
            "Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
}

TEST(SigV4Test, ListObjectsWithQueryParameters) {
  RequestToSign r{.method = "GET", .path = "/",
                  .query = {{"prefix", "J"}, {"max-keys", "2"}},  // sorted when signed
                  .headers = {{"Host", "examplebucket.s3.amazonaws.com"}},
                  .payload_sha256 = kEmptySha};
  EXPECT_EQ(Authorization(SignV4(r, kExample, "us-east-1", "s3", kExampleTime)),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
            "Signature=34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
}

TEST(SigV4Test, GetBucketLifecycleSignsAnEmptyQueryValue) {
  RequestToSign r{.method = "GET", .path = "/", .query = {{"lifecycle", ""}},
                  .headers = {{"Host", "examplebucket.s3.amazonaws.com"}},
                  .payload_sha256 = kEmptySha};
  EXPECT_EQ(Authorization(SignV4(r, kExample, "us-east-1", "s3", kExampleTime)),
            "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,"
            "SignedHeaders=host;x-amz-content-sha256;x-amz-date,"
            "Signature=fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
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
