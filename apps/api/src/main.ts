import 'reflect-metadata';
import { startApp } from '@app/core/start';

startApp(() => import('./bootstrap.js'));
