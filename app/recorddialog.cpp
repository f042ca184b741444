// SPDX-License-Identifier: MIT
#include "recorddialog.h"

#include "comparisonrecording.h"
#include "frameexport.h"
#include "recorder.h"

#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QDialogButtonBox>
#include <QDoubleSpinBox>
#include <QElapsedTimer>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLineEdit>
#include <QMessageBox>
#include <QProgressDialog>
#include <QPushButton>
#include <QSettings>
#include <QSpinBox>
#include <QThread>

#include <atomic>
#include <memory>

namespace marginlab {

namespace {

struct SizePreset {
    const char* name;
    int width, height;
};

constexpr SizePreset kSizes[] = {{"640 × 360", 640, 360},
                                 {"1280 × 720 (HD)", 1280, 720},
                                 {"1920 × 1080 (Full HD)", 1920, 1080},
                                 {"1080 × 1080 (square)", 1080, 1080}};

enum Length { Steps = 0, UntilConverged = 1, UntilStopped = 2 };

// "Until stopped" still has an end: a recording that nobody stops must not fill the disk.
constexpr long kLongestRecording = 1'000'000;

}  // namespace

RecordDialog::RecordDialog(const SceneFile& scene, std::optional<SceneFile> now, const ViewSettings& view, QWidget* parent,
                           std::optional<ComparisonFile> comparison)
    : QDialog(parent), m_scene(scene), m_now(std::move(now)), m_comparison(std::move(comparison)), m_view(view) {
    setWindowTitle(tr("Record"));
    auto* form = new QFormLayout;
    m_what = new QComboBox;
    if (m_comparison) {
        m_what->addItem(tr("The comparison grid"));
        m_what->addItem(tr("The comparison grid with its charts (every panel's curves)"));
        m_what->setCurrentIndex(1);
    } else {
        m_what->addItem(tr("The view"));
        m_what->addItem(tr("The view with a chart strip (loss, precision@1, tuples)"));
    }
    form->addRow(tr("Record"), m_what);

    m_size = new QComboBox;
    for (const SizePreset& s : kSizes) m_size->addItem(QString::fromUtf8(s.name));
    m_size->addItem(tr("Custom"));
    m_size->setCurrentIndex(1);
    m_width = new QSpinBox;
    m_height = new QSpinBox;
    for (QSpinBox* box : {m_width, m_height}) box->setRange(16, 7680);
    m_width->setValue(1280);
    m_height->setValue(720);
    auto* sizeRow = new QHBoxLayout;
    sizeRow->addWidget(m_size);
    sizeRow->addWidget(m_width);
    sizeRow->addWidget(m_height);
    form->addRow(tr("Size"), sizeRow);

    m_fps = new QDoubleSpinBox;
    m_fps->setRange(1, 120);
    m_fps->setValue(30);
    m_fps->setSuffix(tr(" frames/s"));
    form->addRow(tr("Frame rate"), m_fps);
    m_stepsPerFrame = new QSpinBox;
    m_stepsPerFrame->setRange(1, 10000);
    m_stepsPerFrame->setValue(view.stepsPerFrame.value_or(1));
    form->addRow(tr("Steps per frame"), m_stepsPerFrame);

    m_length = new QComboBox;
    m_length->addItems({tr("A number of steps"), tr("Until converged (or stuck), at most that many steps"),
                        tr("Until I stop it")});
    m_steps = new QSpinBox;
    m_steps->setRange(1, 1000000);
    m_steps->setValue(300);
    auto* lengthRow = new QHBoxLayout;
    lengthRow->addWidget(m_length);
    lengthRow->addWidget(m_steps);
    form->addRow(tr("Length"), lengthRow);

    m_inBetween = new QSpinBox;
    m_inBetween->setRange(0, 60);
    m_inBetween->setToolTip(tr("Extra frames that ease the points from one state to the next: smooth slow motion."));
    form->addRow(tr("In-between frames"), m_inBetween);
    m_captions = new QCheckBox(tr("Burn in the scene's title and seed"));
    form->addRow(tr("Captions"), m_captions);
    m_start = new QComboBox;
    m_start->addItem(tr("The scene's start (step %1)").arg(scene.trainer.start ? scene.trainer.start->step : 0));
    if (m_now && !m_comparison) m_start->addItem(tr("The moment on screen (step %1)").arg(m_now->trainer.start->step));
    form->addRow(tr("Start from"), m_start);

    m_file = new QLineEdit;
    auto* browse = new QPushButton(tr("Choose…"));
    auto* fileRow = new QHBoxLayout;
    fileRow->addWidget(m_file);
    fileRow->addWidget(browse);
    form->addRow(tr("File"), fileRow);
    QSettings settings;
    m_file->setText(settings.value(QStringLiteral("record/lastFile"), QDir::home().filePath(QStringLiteral("marginlab.mp4"))).toString());
    m_file->setToolTip(tr(".mp4 (H.264), .webm (VP9), .gif, a folder or a %04d pattern (PNG sequence), or .png / .svg / .pdf (one frame)"));

    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel);
    buttons->button(QDialogButtonBox::Ok)->setText(tr("Record"));
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(buttons);

    connect(browse, &QPushButton::clicked, this, &RecordDialog::chooseFile);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    connect(m_size, &QComboBox::currentIndexChanged, this, [this](int index) {
        if (index >= 0 && index < static_cast<int>(std::size(kSizes))) {
            m_width->setValue(kSizes[index].width);
            m_height->setValue(kSizes[index].height);
        }
        updateEnabled();
    });
    connect(m_length, &QComboBox::currentIndexChanged, this, &RecordDialog::updateEnabled);
    updateEnabled();
}

void RecordDialog::setReplay(const Trajectory& trajectory, const QString& title) {
    m_replay = trajectory;
    m_replayTitle = title;
    m_start->clear();
    m_start->addItem(tr("The first logged frame"));
    m_length->setCurrentIndex(Steps);
    m_steps->setValue(static_cast<int>(std::max<long>(1, trajectory.frameCount() - 1)));
    m_steps->setToolTip(tr("Logged frames to record"));
}

void RecordDialog::updateEnabled() {
    const bool custom = m_size->currentIndex() == m_size->count() - 1;
    m_width->setEnabled(custom);
    m_height->setEnabled(custom);
    m_steps->setEnabled(m_length->currentIndex() != UntilStopped);
}

void RecordDialog::chooseFile() {
    const QString path = QFileDialog::getSaveFileName(this, tr("Record to"), m_file->text(),
                                                      tr("MP4 video (*.mp4);;WebM video (*.webm);;GIF animation (*.gif);;"
                                                         "PNG image (*.png);;SVG drawing (*.svg);;PDF document (*.pdf)"));
    if (!path.isEmpty()) m_file->setText(path);
}

RecordSettings RecordDialog::settings() const {
    RecordSettings s;
    s.size = QSize(m_width->value(), m_height->value());
    s.fps = m_fps->value();
    s.stepsPerFrame = m_stepsPerFrame->value();
    s.steps = m_length->currentIndex() == UntilStopped ? kLongestRecording : m_steps->value();
    s.untilConverged = m_length->currentIndex() == UntilConverged;
    s.inBetween = m_inBetween->value();
    s.chartStrip = m_what->currentIndex() == 1;
    s.captions = m_captions->isChecked();
    return s;
}

QString RecordDialog::exec(QString* error) {
    if (QDialog::exec() != QDialog::Accepted) return {};
    const QString path = m_file->text().trimmed();
    QSettings().setValue(QStringLiteral("record/lastFile"), path);
    const RecordSettings recordSettings = settings();
    const SceneFile& scene = m_start->currentIndex() == 1 && m_now ? *m_now : m_scene;
    auto fail = [&](const QString& message) {
        if (error) *error = message;
        return QString();
    };

    std::unique_ptr<FrameSource> source;
    if (m_replay) source = std::make_unique<TrajectorySource>(*m_replay);
    else source = std::make_unique<TrainerSource>(scene.trainer, m_view.options.showForces && m_view.options.splitForces);
    Recorder recorder(std::move(source), m_view, recordSettings,
                      m_replay ? m_replayTitle : QString::fromStdString(scene.title), m_replay ? 0 : scene.trainer.seed);
    const QString still = frameFormatOf(path);
    if (!still.isEmpty() && !path.contains(QLatin1Char('%'))) {
        QString message;
        const bool written = m_comparison ? recordComparisonStill(*m_comparison, recordSettings, path, &message)
                                          : recordStill(recorder, path, &message);
        if (!written) return fail(message);
        return tr("Wrote %1").arg(path);
    }
    SinkOptions options;
    options.gifPalette = recordingPalette(m_replay ? m_replay->numClasses : scene.trainer.numClasses);
    options.padToEven = true;  // a custom odd size still records
    QString message;
    auto sink = makeSink(path, options, &message);
    if (!sink) return fail(message);

    // The recording runs on its own thread with its own trainer; the progress dialog polls it.
    std::atomic<int> written{0},
        total{m_comparison ? static_cast<int>(1 + recordSettings.steps / recordSettings.stepsPerFrame) : recorder.totalFrames()};
    std::atomic<double> secondsLeft{-1.0};
    std::atomic<bool> cancel{false}, stop{false};
    bool ok = false;
    std::unique_ptr<QThread> thread(QThread::create([&] {
        const auto report = [&](const RecordProgress& p) {
            written = p.frame;
            total = p.totalFrames;
            secondsLeft = p.secondsLeft;
            if (stop) recorder.requestStop();
            return !cancel.load();
        };
        // A comparison records its grid (every panel in lockstep, one chart strip); otherwise the view.
        ok = m_comparison ? recordComparison(*m_comparison, recordSettings, *sink, report, &message)
                          : recorder.record(*sink, report, &message);
    }));
    QProgressDialog progress(tr("Recording…"), tr("Cancel"), 0, 1000, parentWidget());
    progress.setWindowTitle(tr("Recording"));
    progress.setWindowModality(Qt::WindowModal);
    progress.setMinimumDuration(0);
    QPushButton* stopButton = nullptr;
    if (m_length->currentIndex() == UntilStopped) {
        stopButton = new QPushButton(tr("Stop and save"), &progress);
        connect(stopButton, &QPushButton::clicked, &progress, [&] { stop = true; });
    }
    thread->start();
    while (!thread->wait(50)) {
        if (progress.wasCanceled()) cancel = true;
        const int frames = written, all = std::max(1, total.load());
        progress.setValue(m_length->currentIndex() == UntilStopped ? (frames % 1000) : 1000 * frames / all);
        const double left = secondsLeft;
        progress.setLabelText(m_length->currentIndex() == UntilStopped
                                  ? tr("Recording… %1 frames").arg(frames)
                                  : left >= 0 ? tr("Recording… frame %1 of %2, about %3 s left").arg(frames).arg(all).arg(left, 0, 'f', 0)
                                              : tr("Recording… frame %1 of %2").arg(frames).arg(all));
        if (stopButton) stopButton->move(10, progress.height() - stopButton->height() - 10);
        QCoreApplication::processEvents();
    }
    progress.reset();
    if (!ok) return fail(cancel ? tr("Recording cancelled: nothing was written.") : message);
    return tr("Recorded %1 frames to %2").arg(sink->framesWritten()).arg(path);
}

}  // namespace marginlab
