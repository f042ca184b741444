// SPDX-License-Identifier: MIT
// Test helpers: read back what the sinks wrote, with the same libraries a player uses
// (libavformat / libavcodec for video, giflib for GIF), independently of the sinks' code.
#pragma once

#include <QImage>
#include <QRgb>
#include <QString>
#include <vector>

namespace marginlab::test {

struct DecodedVideo {
    QString error;        // empty on success
    QString codec;        // "h264", "vp9"
    QString pixelFormat;  // "yuv420p"
    int width = 0;
    int height = 0;
    int rateNumerator = 0;  // the stream's average frame rate
    int rateDenominator = 1;
    double durationSeconds = 0;  // the stream's duration
    std::vector<QImage> frames;  // RGB32
};

DecodedVideo decodeVideo(const QString& path);

struct DecodedGif {
    QString error;
    int width = 0;
    int height = 0;
    std::vector<QRgb> globalPalette;
    bool anyLocalPalette = false;
    bool loopsForever = false;      // NETSCAPE2.0 with loop count 0
    std::vector<int> delays;        // centiseconds, per frame
    std::vector<QRect> rectangles;  // each frame's stored rectangle
    std::vector<QImage> frames;     // the composed picture after each frame (RGB32)
};

DecodedGif decodeGif(const QString& path);

/// The top-level MP4 box types in file order ("ftyp", "moov", "mdat", ...).
std::vector<std::string> mp4Boxes(const QString& path);

}  // namespace marginlab::test
