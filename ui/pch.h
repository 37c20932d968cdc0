// Precompiled header for ui: the Qt and QCustomPlot headers nearly every view includes.
#pragma once

#include <QtWidgets>

#include <qcustomplot.h>
